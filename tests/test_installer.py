"""The offline installer and the systemd units it installs.

What runs here: `systemd-analyze verify` and `security --offline` on the
units (in a scratch root, so /opt/waypost need not exist), and the
installer folder installed into a fresh folder with pip cut off from every
index. What cannot run here: install.sh's system part (the `waypost` user,
`systemctl enable`, a boot), since this container has no systemd as PID 1
and the tests must not add users to the machine they run on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from app.cli.commands import main
from app.distribution.installer import UNITS, Target, default_targets

from .helpers import ROOT, free_port, wait_for

DEPLOY = ROOT / "deploy"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze is not installed (apt-get install systemd)"
)


def unit(name: str) -> dict[str, list[str]]:
    """Return a unit file's settings, each key with every value it is given."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


@pytest.fixture(scope="module")
def scratch_root(tmp_path_factory):
    """A file system root holding the system's own units, our units and a stand-in /opt/waypost/bin/waypost."""
    if ANALYZE is None:
        pytest.fail("systemd-analyze is required in CI: apt-get install systemd")
    root = tmp_path_factory.mktemp("root")
    shutil.copytree("/lib/systemd/system", root / "lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / "systemd" / name, units / name)
    for program in ("opt/waypost/bin/waypost", "bin/sh"):
        (root / program).parent.mkdir(parents=True, exist_ok=True)
        (root / program).write_text("#!/bin/sh\n")
        (root / program).chmod(0o755)
    return root


@needs_systemd
def test_the_unit_files_pass_systemd_analyze_verify_without_a_word(scratch_root):
    result = subprocess.run(
        [str(ANALYZE), "verify", f"--root={scratch_root}", "--man=no", *UNITS],
        cwd=scratch_root / "etc/systemd/system", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # verify exits 0 on an unknown key or a bad value, and only says so: any output is a defect.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd
@pytest.mark.parametrize("name", [u for u in UNITS if u.endswith(".service")])
def test_each_service_is_hardened_as_systemd_measures_it(scratch_root, name):
    result = subprocess.run(
        [str(ANALYZE), "security", "--offline=true", f"--root={scratch_root}", "--threshold=25", name],
        cwd=scratch_root / "etc/systemd/system", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)[1])  # type: ignore[index]
    assert level <= 2.5, result.stdout  # 10 is a unit with no hardening at all


def test_the_services_run_as_waypost_and_write_only_the_instance_folder():
    for name in ("waypost.service", "waypost-sync.service", "waypost-usb.service"):
        settings = unit(name)
        assert settings["User"] == ["waypost"]
        assert settings["ReadWritePaths"] == ["/var/lib/waypost"]
        for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
            assert settings[key] == ["yes"], (name, key)
        assert settings["ProtectSystem"] == ["strict"]
    assert unit("waypost.service")["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit("waypost-usb.service")["IPAddressDeny"] == ["any"]  # a stick needs no network


def test_the_nightly_sync_is_a_timer_with_jitter_that_catches_up_missed_nights():
    timer = unit("waypost-sync.timer")
    assert timer["RandomizedDelaySec"] == ["3h"] and timer["Persistent"] == ["true"]
    assert timer["WantedBy"] == ["timers.target"]
    assert unit("waypost-sync.service")["ExecStart"] == ["/opt/waypost/bin/waypost sync $WAYPOST_HUB"]


def test_the_install_script_is_valid_posix_sh():
    assert subprocess.run(["sh", "-n", str(DEPLOY / "install.sh")]).returncode == 0


def test_targets_cover_pcs_and_raspberry_pis_with_each_python():
    assert {(t.arch, t.python) for t in default_targets()} >= {("x86_64", "3.11"), ("aarch64", "3.11")}
    args = Target("aarch64", "3.11").pip_args()
    assert "manylinux_2_36_aarch64" in args and "manylinux2014_aarch64" in args and "cp311" in args


def test_make_installer_refuses_guidance_the_kiosk_would_refuse(tmp_path, content_dir, sign_bundle, publisher):
    unsigned = tmp_path / "demo.bundle"
    assert CliRunner().invoke(main, ["build", str(content_dir), "-o", str(unsigned)]).exit_code == 0
    result = CliRunner().invoke(
        main,
        ["kiosk", "make-installer", str(tmp_path / "out"), "--bundle", str(unsigned), "--root", str(publisher.root)],
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"error: no installer made: {unsigned} is not a signed bundle: build it with `waypost build --sign KEY`"
    )
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    signed = sign_bundle(content_dir, tmp_path / "g.bundle")
    again = CliRunner().invoke(
        main, ["kiosk", "make-installer", str(busy), "--bundle", str(signed), "--root", str(publisher.root)]
    )
    assert (
        again.output.strip() == f"error: no installer made: {busy} exists and is not an empty folder; name a new folder"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_installer_folder_installs_and_serves_with_pip_cut_off_from_every_index(
    tmp_path, content_dir, sign_bundle, publisher
):
    bundle = sign_bundle(content_dir, tmp_path / "guidance.bundle", version=20261201100507)
    out = tmp_path / "installer"
    made = subprocess.run(
        [sys.executable, "-m", "app.cli", "kiosk", "make-installer", str(out), "--bundle", str(bundle),
         "--root", str(publisher.root), "--this-machine"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert {"install.sh", "guidance.bundle", "root.json", "requirements.txt", "SHA256SUMS"} <= {
        p.name for p in out.iterdir()
    }
    # The kiosk: no index anywhere, not even this machine's pip configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "WAYPOST_", "VIRTUAL_ENV"))}
    env |= {"PIP_INDEX_URL": "http://127.0.0.1:9/", "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/"}
    prefix, instance = tmp_path / "opt-waypost", tmp_path / "var-lib-waypost"
    installed = subprocess.run(
        ["sh", str(out / "install.sh"), "--no-system", "--prefix", str(prefix), "--instance", str(instance)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "installed version 20261201100507" in installed.stdout
    port = free_port()
    server = subprocess.Popen(
        [str(prefix / "bin" / "waypost"), "serve", "--port", str(port)],
        env=env | {"WAYPOST_INSTANCE_PATH": str(instance)}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/en/")
        status = requests.get(f"http://127.0.0.1:{port}/api/v1/status", timeout=30).json()
        assert status["bundle"]["version"] == 20261201100507 and status["bundle"]["signed"]
    finally:
        server.terminate()
        server.communicate(timeout=60)
    # A damaged copy of the folder is refused before anything is installed.
    (out / "root.json").write_text("{}")
    damaged = subprocess.run(
        ["sh", str(out / "install.sh"), "--no-system", "--prefix", str(tmp_path / "other")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert damaged.returncode == 1 and "damaged or incomplete" in damaged.stderr
    assert not (tmp_path / "other").exists()
