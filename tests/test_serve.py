"""`waypost serve` on a real loopback socket, under the production WSGI server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


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
        response = requests.get(f"http://127.0.0.1:{port}/ar/", headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Server"] == "Waypost"
        assert '<html lang="ar" dir="rtl">' in response.text
        assert "Set-Cookie" not in response.headers
        assert (tmp_path / "instance" / "waypost.bundle").is_file()
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
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
