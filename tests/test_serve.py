"""`waypost serve` on a real loopback socket, under the production WSGI server."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.web.server import connection_limit, raise_file_limit, waitress_options

from .helpers import free_port, wait_for
from .live import serving

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


SLOW_CLIENTS = 150  # more than the 100 connections waitress accepts by default


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


def test_a_reader_is_served_while_150_slow_clients_hold_connections(make_app):
    app = make_app()
    options = waitress_options(app.config, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    assert options["connection_limit"] > SLOW_CLIENTS
    with serving(app, **options) as url, slow_clients(url, SLOW_CLIENTS):
        # The listen queue is first come, first served: this request is
        # accepted only after every slow client before it has been.
        response = requests.get(f"{url}/en/", headers={"Connection": "close"}, timeout=30)
        assert response.status_code == 200


def test_with_waitress_defaults_150_slow_clients_leave_a_reader_waiting(make_app):
    # What `serve` ran before; the test above would fail the same way without the new settings.
    with serving(make_app(), threads=8) as url, slow_clients(url, SLOW_CLIENTS):
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{url}/en/", headers={"Connection": "close"}, timeout=3)


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
    options = waitress_options(app.config, 1_048_576)
    assert (options["threads"], options["connection_limit"], options["channel_timeout"]) == (3, 700, 12)
    assert options["asyncore_use_poll"] is True  # select() cannot watch more than 1024 descriptors
    assert options["cleanup_interval"] <= 12
    assert waitress_options(app.config, 1_048_576, threads=5)["threads"] == 5


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
