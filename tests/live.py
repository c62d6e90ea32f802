"""Real parts the tests share: Debian's Chromium, and a loopback server."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import waitress
from flask import Flask

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright drives the distribution's Chromium; it never downloads a browser.
LAUNCH: dict[str, Any] = {
    "executable_path": CHROMIUM,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"],
}  # fmt: skip


# Every wait in a browser test waits for a condition; this only caps how long a broken one hangs,
# and is generous so a loaded 2-core machine is slow, not failing.
PHONE_TIMEOUT_MS = 90_000


@contextlib.contextmanager
def phone(browser: Any, **options: Any) -> Iterator[tuple[Any, Any]]:
    """Open a fresh browser profile on a 360x640 phone screen (options go to new_context); yield (context, page)."""
    context = browser.new_context(**{"viewport": {"width": 360, "height": 640}, **options})
    context.set_default_timeout(PHONE_TIMEOUT_MS)
    try:
        yield context, context.new_page()
    finally:
        context.close()


def require_chromium() -> None:
    """Skip the calling test or module without Chromium; in CI, fail instead."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is required in CI: apt-get install chromium")
        pytest.skip("Chromium is not installed", allow_module_level=True)


@contextlib.contextmanager
def serving(app: Flask, threads: int = 4, **options: Any) -> Iterator[str]:
    """Serve an app under waitress on a loopback port, with any waitress options, for as long as the block runs."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, **{"threads": threads, **options})
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closed by the server's own loop thread: closing its sockets from here,
        # while that thread waits on them in select(), fails with EBADF there.
        server.trigger.pull_trigger(server.close)
        # A bound for a broken shutdown, not a race: a loaded machine may take a while to close.
        thread.join(timeout=120)
    # The loop ends only once every client connection is closed; a thread
    # still running here means sockets left behind for the garbage collector.
    assert not thread.is_alive(), "the test server still has open connections"
