"""The wheel works anywhere: installed (not editable) into a fresh venv, run from a folder that is not the checkout.

The Dockerfile and the offline kiosk installer install Waypost this way, so
the demo content, the catalogs, the templates and the service worker must all
travel inside the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from .test_serve import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Build the wheel and install it with the locked dependencies into a fresh venv; return its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the tracked files, as a fresh clone has them: a build/ folder left in
    # the checkout by an earlier build would otherwise carry files the package data no longer lists.
    source = work / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # With the setuptools the lock installed here (requirements/build.txt), as the Dockerfile builds it.
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source)]
    subprocess.run(build, check=True, cwd=work)
    wheel = next((work / "dist").glob("waypost-*.whl"))
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    install = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", "install"]
    subprocess.run([*install, "--require-hashes", "-r", str(ROOT / "requirements" / "runtime.txt")], check=True)
    subprocess.run([*install, "--no-deps", str(wheel)], check=True)
    return work / "venv" / "bin"


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYPOST_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(["waypost", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_package_is_not_the_checkout(installed, tmp_path):
    found = run(installed, "--version", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    where = subprocess.run(
        [str(installed / "python"), "-c", "import app; print(app.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout


def test_check_and_i18n_status_work_from_any_folder(installed, tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    checked = run(installed, "check", "./content", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
    # No translations/ here: the catalogs the wheel ships are the ones reported.
    status = run(installed, "i18n", "status", cwd=tmp_path / "content")
    assert status.returncode == 0, status.stderr
    assert "fa" in status.stdout and "ar" in status.stdout


def test_serve_from_an_empty_folder_builds_the_shipped_demo_and_serves_it_with_the_worker(installed, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYPOST_")}
    env["PATH"] = f"{installed}{os.pathsep}{env['PATH']}"
    server = subprocess.Popen(
        ["waypost", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/")
        page = requests.get(f"http://127.0.0.1:{port}/fa/", timeout=30)
        assert page.status_code == 200
        assert '<html lang="fa" dir="rtl">' in page.text
        # Persian interface text comes from the shipped catalogs, not English fallbacks.
        assert "Skip to main content" not in page.text
        # The sample place's HSDS folder ships too: its CSV files are package data like the Markdown.
        service = requests.get(f"http://127.0.0.1:{port}/en/places/example-city/services/svc-clinic", timeout=30)
        assert service.status_code == 200, service.status_code
        worker = requests.get(f"http://127.0.0.1:{port}/sw.js", timeout=30)
        assert worker.status_code == 200 and "addEventListener" in worker.text
        assert (tmp_path / "instance" / "waypost.bundle").is_file()
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert "Traceback" not in output
