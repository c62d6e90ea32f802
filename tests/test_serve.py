"""`waypost serve` on a real loopback socket, under the production WSGI server (granian)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.server import MAX_HEADER_BYTES, bind_address, connection_limit, raise_file_limit, server_options

from .helpers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_serve_builds_the_demo_bundle_on_first_run_and_serves_arabic(content_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "WAYPOST_INSTANCE_PATH": str(tmp_path / "instance"),
           "WAYPOST_CONTENT_DIR": str(content_dir)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        response = requests.get(f"http://127.0.0.1:{port}/ar/", headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Server"] == "Waypost"
        assert '<html lang="ar" dir="rtl">' in response.text
        assert "Set-Cookie" not in response.headers
        assert (tmp_path / "instance" / "waypost.bundle").is_file()
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert "building one from" in output


def test_serve_refuses_a_file_that_is_not_a_bundle_with_one_line(tmp_path):
    bad = tmp_path / "bad.bundle"
    bad.write_text("not a database")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--bundle", str(bad), "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ") and "Traceback" not in result.stderr


SLOW_CLIENTS = 150  # more than the 100 connections that took a kiosk offline under an earlier server's defaults


@contextlib.contextmanager
def served(
    bundle: Path, tmp_path: Path, *args: str, ready: str = "/", **settings: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run the real `waypost serve` over bundle on a free loopback port; yield its address and process.

    It is ready once `ready` answers. The process is stopped with SIGTERM,
    as systemd stops it, when the block ends.
    """
    port = free_port()
    env = {**os.environ, "WAYPOST_INSTANCE_PATH": str(tmp_path / "instance"),
           **{f"WAYPOST_{name}": value for name, value in settings.items()}}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--bundle", str(bundle), "--port", str(port), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}{ready}")
        yield f"http://127.0.0.1:{port}", server
    finally:
        if server.poll() is None:
            server.terminate()
        server.communicate(timeout=60)


@contextlib.contextmanager
def slow_clients(url: str, count: int) -> Iterator[list[socket.socket]]:
    """Open count connections that each send half a request header and then nothing; close them all after."""
    port = int(url.rsplit(":", 1)[1])
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            opened.append(s)
            s.sendall(b"GET /en/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        yield opened
    finally:
        for s in opened:
            s.close()


def test_a_reader_is_served_while_150_slow_clients_hold_connections(bundle_path, tmp_path):
    with served(bundle_path, tmp_path) as (url, _), slow_clients(url, SLOW_CLIENTS):
        response = requests.get(f"{url}/en/", headers={"Connection": "close"}, timeout=30)
        assert response.status_code == 200


def test_connections_beyond_the_limit_wait_and_a_client_that_trickles_its_header_is_cut_off(bundle_path, tmp_path):
    # SERVER_CONNECTION_LIMIT is granian's backpressure: the third connection waits behind two silent ones,
    # until SERVER_CHANNEL_TIMEOUT (the whole header's time, however slowly it comes) closes them.
    with served(bundle_path, tmp_path, SERVER_CONNECTION_LIMIT="2", SERVER_CHANNEL_TIMEOUT="3") as (url, _):
        with slow_clients(url, 2) as held:
            started = time.monotonic()
            response = requests.get(f"{url}/en/", headers={"Connection": "close"}, timeout=30)
            waited = time.monotonic() - started
            assert response.status_code == 200
            assert waited >= 2, "served before the silent clients were closed: the limit did nothing"
            for s in held:
                said = s.recv(64)  # the end of the connection, or a 408 before it
                assert said == b"" or said.startswith(b"HTTP/1.1 408"), said
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30) as trickle:
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 20 and not closed:
                try:
                    trickle.sendall(b"X")
                    time.sleep(0.5)
                except OSError:
                    closed = True
            assert closed, "a client sending one byte every half second was never cut off"
            assert time.monotonic() - started < 10


def test_sigterm_stops_the_server_cleanly_with_the_last_access_log_lines_written(bundle_path, tmp_path):
    with served(bundle_path, tmp_path, ACCESS_LOG="true") as (url, server):
        too_big = requests.get(f"{url}/en/", headers={"X-Big": "a" * 64 * 1024}, timeout=30)
        assert too_big.status_code == 431  # a header no browser sends is refused, not buffered
        response = requests.get(f"{url}/en/?last", timeout=30)
        assert response.headers["Server"] == "Waypost"  # not the server's name and version
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert "GET /en/ 200" in err and "Traceback" not in err


def test_a_stop_signal_caught_by_any_thread_stops_the_server(bundle_path, tmp_path):
    # The system may hand a signal sent to the process to any of its threads; `kill` aimed at one
    # thread's id does exactly that. Python runs handlers in the main thread only, which used to
    # wait on, and the server kept running until a second signal.
    with served(bundle_path, tmp_path) as (url, server):
        assert requests.get(f"{url}/en/search", params={"q": "guide"}, timeout=30).status_code == 200
        others = sorted(int(t) for t in os.listdir(f"/proc/{server.pid}/task") if int(t) != server.pid)
        assert others, "granian answers from threads of its own"
        os.kill(others[-1], signal.SIGTERM)  # the newest: one that answers requests
        server.wait(timeout=30)
    assert server.returncode == 0


def test_serve_answers_from_one_process_that_systemd_restarts_if_it_dies(bundle_path, tmp_path):
    # No supervisor process of granian's own and no fork: the app's memory is held once. Restarting a
    # server that dies (the out-of-memory killer's SIGKILL counts as a failure) is the unit's job.
    with served(bundle_path, tmp_path) as (url, server):
        assert requests.get(f"{url}/en/", timeout=30).status_code == 200
        tasks = Path(f"/proc/{server.pid}/task")
        children = [pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()]
        assert children == []
    unit = (ROOT / "deploy/systemd/waypost.service").read_text()
    assert "\nRestart=on-failure\n" in unit


def test_serve_listens_on_one_address_or_on_every_address(bundle_path, tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--bundle", str(bundle_path), "--port", str(free_port()),
         "--host", "127.0.0.1", "--host", "127.0.0.2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().startswith("error: waypost serve listens on one address, not 127.0.0.1, 127.0.0.2")
    assert bind_address(["0.0.0.0", "::", "0.0.0.0"]) == "::"
    assert bind_address(["192.0.2.1"]) == "192.0.2.1"


def test_every_address_takes_ipv4_and_ipv6(bundle_path, tmp_path):
    if Path("/proc/sys/net/ipv6/bindv6only").read_text().strip() != "0" or not socket.has_ipv6:
        pytest.skip("this machine keeps IPv6 sockets to IPv6")
    with served(bundle_path, tmp_path, "--host", "0.0.0.0", "--host", "::") as (url, _):
        port = url.rsplit(":", 1)[1]
        assert requests.get(f"http://127.0.0.1:{port}/en/", timeout=30).status_code == 200
        try:
            six = requests.get(f"http://[::1]:{port}/en/", timeout=30)
        except requests.ConnectionError:
            pytest.skip("no IPv6 loopback here")
        assert six.status_code == 200


@pytest.mark.parametrize(
    ("wanted", "file_limit", "allowed"),
    [
        (2000, 1_048_576, 2000),  # a raised limit leaves the setting alone
        (2000, 1024, 512),  # a kiosk stuck at 1024 files keeps half of them for everything else
        (1000, 300, 44),  # never closer than the reserved descriptors
        (5, 10, 1),
    ],
)
def test_the_connection_limit_stays_below_the_open_file_limit(wanted, file_limit, allowed):
    assert connection_limit(wanted, file_limit) == allowed


def test_serve_options_come_from_settings_and_threads_overrides_them(make_app):
    app = make_app(SERVER_THREADS=3, SERVER_CONNECTION_LIMIT=700, SERVER_CHANNEL_TIMEOUT=12)
    options = server_options(app.config, 1_048_576)
    assert (options["blocking_threads"], options["backpressure"]) == (3, 700)
    assert options["http1_settings"].header_read_timeout == 12_000
    assert options["http1_settings"].max_buffer_size == MAX_HEADER_BYTES
    assert server_options(app.config, 1_048_576, threads=5)["blocking_threads"] == 5
    assert server_options(app.config, 1024)["backpressure"] == 512


def test_raising_the_file_limit_never_lowers_it():
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        assert raise_file_limit() >= before[0]
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[1] == before[1]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_a_kiosk_that_trusts_a_publisher_never_serves_the_unsigned_demo(content_dir, tmp_path, publisher):
    # After a revocation withdrew its bundle, a restart must not put demo guidance in its place.
    trust = tmp_path / "instance" / "trust"
    trust.mkdir(parents=True)
    (trust / "root.json").write_bytes(publisher.root.read_bytes())
    port = free_port()
    env = {**os.environ, "WAYPOST_INSTANCE_PATH": str(tmp_path / "instance"), "WAYPOST_CONTENT_DIR": str(content_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/status")
        assert requests.get(f"http://127.0.0.1:{port}/en/", timeout=30).status_code == 503
        assert not (tmp_path / "instance" / "waypost.bundle").exists()
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert "No trusted guidance" in output and "building one" not in output
