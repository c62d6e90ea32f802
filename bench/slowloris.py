"""Benchmark: how many slow connections can `waypost serve` hold while still answering a reader?

Starts the real `waypost serve` (granian) on 127.0.0.1 over the demo bundle,
with the settings it uses by default. For N slow clients (50, 100, 200, ... up
to what the open-file limit allows) it opens N connections that each send a
partial request header and then one more byte every --interval seconds, as a
slowloris attack does, and asks for a normal page on a new connection. N is
survived when that page comes back 200 within --probe seconds. Every socket
is closed after each step; the run stops at the first failure. It also says
how long the server let one trickling client go on (the header timeout,
WAYPOST_SERVER_CHANNEL_TIMEOUT, counts the whole header, not each byte).
Target: many times the 100 slow connections that took a kiosk offline before.

Usage: python bench/slowloris.py [--interval 1] [--probe 5] [--max 6400]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import settings  # noqa: E402
from app.bundle.build import build_bundle  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.server import raise_file_limit, server_options  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(bundle: Path) -> Iterator[str]:
    """Run `waypost serve` over bundle on a free loopback port for as long as the block runs; stop it by its PID."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--bundle", str(bundle), "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while probe(base, 5) is None:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("waypost serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


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


def probe(base: str, seconds: float) -> float | None:
    """Return how long a normal page took, or None when it did not come back 200 in time."""
    start = time.monotonic()
    try:
        response = requests.get(f"{base}/en/", headers={"Connection": "close"}, timeout=seconds)
    except requests.RequestException:
        return None
    return time.monotonic() - start if response.status_code == 200 else None


def survives(base: str, count: int, interval: float, seconds: float) -> float | None:
    """Return the probe's time with count slow clients connected, or None when the reader was left waiting."""
    port = int(base.rsplit(":", 1)[1])
    with slow_clients(port, count, interval) as opened:
        time.sleep(SETTLE_SECONDS)  # let the server take every slow client it will take
        return probe(base, seconds) if len(opened) == count else None


def trickle_allowed(base: str, interval: float, limit: float = 120) -> float:
    """Return how long one client sending a header byte every interval seconds stayed connected."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        start = time.monotonic()
        s.sendall(b"GET /en/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        while time.monotonic() - start < limit:
            try:
                s.sendall(b"x")
                time.sleep(interval)
            except OSError:
                break
        return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a slow client's bytes")
    parser.add_argument("--probe", type=float, default=5.0, help="seconds a reader waits for a page")
    parser.add_argument("--max", type=int, default=6400, help="most slow clients to try")
    args = parser.parse_args()

    file_limit = raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="waypost-bench-"))
    os.environ["WAYPOST_INSTANCE_PATH"] = str(work / "instance")
    live = work / "demo.bundle"
    build_bundle(load_content(ROOT / "content"), live)
    options = server_options(settings.resolve(), file_limit)
    # This process holds both ends of every connection, and the server keeps some descriptors for itself.
    ceiling = min(args.max, (file_limit - 300) // 2)
    steps = [n for n in (50 * 2**i for i in range(12)) if n <= ceiling]
    timeout_s = options["http1_settings"].header_read_timeout / 1000
    print(f"open-file limit {file_limit}; granian: {options['blocking_threads']} threads, connection limit "
          f"{options['backpressure']}, header timeout {timeout_s:g} s")  # fmt: skip
    print(f"slow clients send one byte every {args.interval:g} s; a reader waits {args.probe:g} s for /en/\n")
    survived = 0
    with serving(live) as base:
        print(f"one trickling client was cut off after {trickle_allowed(base, args.interval):.1f} s")
        for n in steps:
            took = survives(base, n, args.interval, args.probe)
            print(
                f"{n:>12} slow clients | "
                + ("reader waits: FAIL" if took is None else f"reader served in {took:.2f} s")
            )
            if took is None:
                break
            survived = n
    print(f"waypost serve survives {survived} slow connections")


if __name__ == "__main__":
    main()
