"""Real parts the tests share: Debian's Chromium, and a loopback server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

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
def chromium() -> Iterator[Any]:
    """Launch Debian's Chromium under Playwright; close it, and Playwright, when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def phone(browser: Any, **options: Any) -> Iterator[tuple[Any, Any]]:
    """Open a fresh browser profile on a 360x640 phone screen (options go to new_context); yield (context, page)."""
    context = browser.new_context(**{"viewport": {"width": 360, "height": 640}, **options})
    context.set_default_timeout(PHONE_TIMEOUT_MS)
    try:
        yield context, context.new_page()
    finally:
        context.close()


def wait_until(page: Any, predicate: str, arg: Any = None, timeout_ms: int = PHONE_TIMEOUT_MS) -> None:
    """Wait until an asynchronous JavaScript predicate, such as "() => caches.match(url)", resolves to a truthy value.

    Playwright's wait_for_function takes the promise such a predicate returns for a truthy value
    and returns at once, before the promise has settled: a wait that never waits. This awaits it,
    every 50 ms, and fails with the predicate's text when the time runs out.
    """
    page.evaluate(
        f"""async (arg) => {{
            const deadline = Date.now() + {int(timeout_ms)};
            while (!(await ({predicate})(arg))) {{
                if (Date.now() > deadline) throw new Error('timed out waiting for ' + {json.dumps(predicate)});
                await new Promise((tick) => setTimeout(tick, 50));
            }}
        }}""",
        arg,
    )


# Resolves once the page's worker has finished activating (so its clients.claim() has run), with
# whether the page is controlled; fails after `timeout` ms (page.evaluate itself never times out).
_ACTIVATED = """async (timeout) => {
    const late = new Promise((_, fail) => setTimeout(() => fail(new Error('no active worker')), timeout));
    const activated = (async () => {
        const worker = (await navigator.serviceWorker.ready).active;
        if (worker.state !== 'activated') {
            await new Promise((done) => worker.addEventListener('statechange', () => worker.state === 'activated' && done()));
        }
    })();
    await Promise.race([activated, late]);
    return navigator.serviceWorker.controller !== null;
}"""


def wait_for_worker(page: Any) -> None:
    """Wait until the service worker is active and controls the page.

    The worker claims the pages open when it activates, but Chromium leaves a page uncontrolled
    when its navigation was under way as the claim ran (it happened once in CI: the page was
    never controlled and the wait ran out). Such a page still works, with the worker's
    registration, and the next page it opens is controlled, so the page is loaded again.
    """
    if not page.evaluate(_ACTIVATED, PHONE_TIMEOUT_MS):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def require_chromium() -> None:
    """Skip the calling test or module without Chromium; in CI, fail instead."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is required in CI: apt-get install chromium")
        pytest.skip("Chromium is not installed", allow_module_level=True)


class AppHeaders(WSGIRequestHandler):
    """Werkzeug's handler without http.server's own Date and Server headers, sent even when the app sent its own.

    Waypost's cached answers carry their Date; two Date headers make the
    service worker's `new Date(...)` invalid, and no production server sends both.
    """

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve an app on a loopback port from this process for as long as the block runs.

    Werkzeug's threaded server, so a test can serve an app it configured and
    still look inside it. What `waypost serve` itself does under granian
    (slow clients, SIGTERM, the access log) is tested on the real command in
    test_serve.py and test_appliance.py.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=AppHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        # A bound for a broken shutdown, not a race: a loaded machine may take a while to stop.
        thread.join(timeout=120)
    assert not thread.is_alive(), "the test server did not stop"


@contextlib.contextmanager
def serving_content(content_dir: Path, bundle: Path, config: dict | None = None, **load: Any) -> Iterator[str]:
    """Build a content folder into bundle with the real builder and serve it (`serving`) while the block runs.

    config adds to the app's settings; load goes to load_content.
    """
    from app.bundle.build import build_bundle
    from app.content.load import load_content
    from app.web import create_app

    loaded = load_content(content_dir, **load)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    build_bundle(loaded, bundle)
    with serving(create_app({"TESTING": True, "BUNDLE": str(bundle), **(config or {})})) as url:
        yield url
