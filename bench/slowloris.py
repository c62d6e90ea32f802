"""Benchmark: how many slow connections can `waypost serve` hold while still answering a reader?

Starts a real waitress server on 127.0.0.1 over the demo bundle, first with
waitress's own defaults (what `serve` used before), then with the settings
`serve` uses now. For N slow clients (50, 100, 200, ... up to what the
open-file limit allows) it opens N connections that each send a partial
request header and then one more byte every --interval seconds, as a
slowloris attack does, and asks for a normal page on a new connection.
N is survived when that page comes back 200 within --probe seconds. Every
socket is closed after each step; a configuration stops at its first failure.
Target: the defaults survive many times the 100 slow connections that took a
kiosk offline before.

Usage: python bench/slowloris.py [--interval 1] [--probe 5] [--max 6400]
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import waitress

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.bundle.build import build_bundle  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.web import create_app  # noqa: E402
from app.web.server import raise_file_limit, waitress_options  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# What `waypost serve` passed to waitress before: everything else was waitress's default.
OLD = {"threads": 8, "ident": "Waypost"}
SETTLE_SECONDS = 15


@contextmanager
def serving(app: Any, options: dict[str, Any]) -> Iterator[Any]:
    """Run waitress with options on a loopback port for as long as the block runs."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, **options)
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # select() may see its sockets closed under it as the server stops; only that is expected.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        wait_until(lambda: not server.active_channels, SETTLE_SECONDS)
        closing.set()
        server.close()
        thread.join(timeout=30)


@contextmanager
def slow_clients(port: int, count: int, interval: float) -> Iterator[list[socket.socket]]:
    """Open count connections that trickle a request header, one byte per interval; close them all after."""
    opened: list[socket.socket] = []
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(interval):
            for s in opened:
                try:
                    s.send(b"x")
                except OSError:
                    pass

    try:
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                break  # the listen queue is full too: the server is long past saving
            opened.append(s)
            s.sendall(b"GET /en/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        worker = threading.Thread(target=trickle, daemon=True)
        worker.start()
        yield opened
        stop.set()
        worker.join(timeout=interval + 5)
    finally:
        stop.set()
        for s in opened:
            s.close()


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll condition until it holds or seconds pass; return whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def probe(base: str, seconds: float) -> float | None:
    """Return how long a normal page took, or None when it did not come back 200 in time."""
    start = time.monotonic()
    try:
        response = requests.get(f"{base}/en/", headers={"Connection": "close"}, timeout=seconds)
    except requests.RequestException:
        return None
    return time.monotonic() - start if response.status_code == 200 else None


def survives(app: Any, options: dict[str, Any], count: int, interval: float, seconds: float) -> float | None:
    """Return the probe's time with count slow clients connected, or None when the reader was left waiting."""
    with serving(app, options) as server:
        base = f"http://127.0.0.1:{server.effective_port}"
        with slow_clients(server.effective_port, count, interval) as opened:
            # Wait until waitress has taken every slow client it will take.
            wait_until(lambda: len(server.active_channels) >= len(opened) or server.in_connection_overflow,
                       SETTLE_SECONDS)  # fmt: skip
            return probe(base, seconds) if len(opened) == count else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--probe", type=float, default=5.0, help="seconds a reader waits for a page")
    parser.add_argument("--max", type=int, default=6400, help="most slow clients to try")
    args = parser.parse_args()

    # Waitress logs every refused and reset connection; the table says what matters.
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    file_limit = raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="waypost-bench-"))
    os.environ["WAYPOST_INSTANCE_PATH"] = str(work / "instance")
    live = work / "demo.bundle"
    build_bundle(load_content(ROOT / "content"), live)
    app = create_app({"BUNDLE": str(live)})
    new = waitress_options(app.config, file_limit)
    # This process holds both ends of every connection, and the server keeps some descriptors for itself.
    ceiling = min(args.max, (file_limit - 300) // 2)
    steps = [n for n in (50 * 2**i for i in range(12)) if n <= ceiling]

    configs = {"before (waitress defaults)": OLD, "after (waypost serve now)": new}
    print(f"open-file limit {file_limit}; new settings: threads {new['threads']}, connection_limit "
          f"{new['connection_limit']}, channel_timeout {new['channel_timeout']} s, poll()")  # fmt: skip
    print(f"slow clients send one byte every {args.interval:g} s; a reader waits {args.probe:g} s for /en/\n")
    results: dict[str, dict[int, float | None]] = {name: {} for name in configs}
    for name, options in configs.items():
        for n in steps:
            results[name][n] = took = survives(app, options, n, args.interval, args.probe)
            if took is None:
                break
    print(f"{'slow clients':>12} | " + " | ".join(f"{name:>26}" for name in configs))
    for n in steps:
        cells = []
        for name in configs:
            took = results[name].get(n)
            cells.append(
                f"{'(not tried)':>26}" if n not in results[name] else
                f"{'reader waits: FAIL':>26}" if took is None else f"{f'reader served in {took:.2f} s':>26}"
            )  # fmt: skip
        print(f"{n:>12} | " + " | ".join(cells))
    for name in configs:
        survived = [n for n, took in results[name].items() if took is not None]
        print(f"{name}: survives {max(survived) if survived else 0} slow connections")


if __name__ == "__main__":
    main()
