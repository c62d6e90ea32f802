"""The kiosk as an appliance: serve's addresses and refusals, versions that only go up, the access log."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime

import requests
from click.testing import CliRunner

from app.cli.commands import main
from app.distribution.envelope import next_version
from app.server import interface_addresses, reader_addresses

from .helpers import ROOT, free_port, must, wait_for


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_serve_refuses_a_bundle_path_that_does_not_exist_and_builds_nothing_there(tmp_path):
    typo = tmp_path / "guidence.bundle"
    result = run("serve", "--bundle", str(typo), "--port", str(free_port()))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: no bundle at {typo}: check the path (--bundle, WAYPOST_BUNDLE), or pass --demo to build the demo there"
    )
    assert not typo.exists()


def test_waypost_bundle_naming_a_missing_file_is_refused_too(tmp_path):
    typo = tmp_path / "guidence.bundle"
    result = run("serve", "--port", str(free_port()), env={"WAYPOST_BUNDLE": str(typo)})
    assert result.exit_code == 1 and "no bundle at" in result.output and not typo.exists()


def test_serve_on_a_busy_port_says_so_in_one_line_after_building_nothing_else(bundle_path, content_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--bundle", str(bundle_path), "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Serving" not in result.stdout
    assert result.stderr.strip() == (
        f"error: port {port} is already in use on 127.0.0.1 (another Waypost, or another program): "
        f"stop it, or choose another port with --port {port + 1}"
    )


def test_serve_demo_builds_the_demo_at_a_named_path_and_lists_where_phones_go(content_dir, tmp_path):
    target = tmp_path / "demo" / "guidance.bundle"
    target.parent.mkdir()
    port = free_port()
    env = {**os.environ, "WAYPOST_CONTENT_DIR": str(content_dir), "WAYPOST_ACCESS_LOG": "true",
           "WAYPOST_PUBLIC_URL": "https://guide.example.org/"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--bundle", str(target), "--demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/en/")
        assert requests.get(f"http://127.0.0.1:{port}/en/search?q=secret+words", timeout=30).status_code == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=60)
    assert target.is_file()
    assert "Phones can open:\n  https://guide.example.org/\n" in out
    # The access log works under the real server: method, path, status, duration; no query, no address.
    assert re.search(r"GET /en/search 200 \d+\.\dms", err), err
    assert "secret" not in err and "127.0.0.1" not in err


def test_every_lan_address_is_listed_for_a_wildcard_host_and_loopback_only_alone():
    port = 8000
    lan = [ip for ip in interface_addresses(socket.AF_INET) if not ip.startswith("127.")]
    listed = reader_addresses(["0.0.0.0"], port)
    for ip in lan:
        assert f"http://{ip}:8000/" in listed
    assert all("127.0.0.1" not in url for url in listed) or not lan
    assert reader_addresses(["127.0.0.1"], 80) == ["http://127.0.0.1/"]
    assert reader_addresses(["fd00::2"], 8080) == ["http://[fd00::2]:8080/"]
    assert reader_addresses(["0.0.0.0"], 80, "https://guide.example.org/")[0] == "https://guide.example.org/"


def test_build_into_an_existing_folder_says_so_in_one_line(content_dir, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    result = run("build", str(content_dir), "-o", str(folder))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: {folder} is a folder; give the bundle file's name, e.g. -o {folder / 'guidance.bundle'}"
    )
    assert list(folder.iterdir()) == []


def test_two_signed_builds_in_the_same_second_get_two_versions(content_dir, tmp_path, publisher):
    out = tmp_path / "guidance.bundle"
    versions = []
    for _ in range(3):
        result = run("build", str(content_dir), "-o", str(out), "--sign", str(publisher.secret))
        assert result.exit_code == 0, result.output
        versions.append(int(must(re.search(r"signed as version (\d+)", result.output))[1]))
    assert versions == sorted(set(versions)) and len(set(versions)) == 3


def test_the_next_version_is_the_time_to_the_second_or_above_the_last():
    now = datetime(2026, 12, 1, 10, 5, 7, tzinfo=UTC)
    assert next_version(now) == 20261201100507
    assert len(str(next_version(now))) <= 18


def test_publish_refuses_an_older_version_over_a_newer_one_naming_both(content_dir, tmp_path, publisher, sign_bundle):
    hub = tmp_path / "hub"
    new = sign_bundle(content_dir, tmp_path / "new.bundle", version=20261201100507)
    old = sign_bundle(content_dir, tmp_path / "old.bundle", version=20261201100506)
    args = ["--key", str(publisher.secret), "--root", str(publisher.root)]
    assert run("publish", str(new), str(hub), *args).exit_code == 0
    refused = run("publish", str(old), str(hub), *args)
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        f"error: not published: {hub} already publishes version 20261201100507; {old} is version "
        "20261201100506. Build a newer one, or pass --allow-downgrade"
    )
    assert run("publish", str(new), str(hub), *args).exit_code == 1  # the same version again: refused too
    assert run("publish", str(old), str(hub), *args, "--allow-downgrade").exit_code == 0


def test_serve_help_names_the_demo_switch():
    assert "--demo" in run("serve", "--help").output
