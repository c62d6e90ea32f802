"""The Dockerfile, checked without a container engine (none runs on the build machine).

Its instructions are read and run in order on this machine instead: COPY
copies from the checkout, RUN runs in a shell with `pip` and `waypost` from a
fresh virtual environment, and the image's paths (/srv/waypost, /data) moved
below tmp_path. What this cannot show: the base image itself, the `useradd`
line (it would add a user to this machine) and the volume mount.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import requests

from .helpers import ROOT, free_port, wait_for


def instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions as (keyword, argument), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_image_runs_as_a_non_root_user_with_the_instance_as_a_volume():
    steps = instructions()
    keywords = [k for k, _ in steps]
    users = [arg for k, arg in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(arg for k, arg in steps if k == "ENV")
    assert "WAYPOST_INSTANCE_PATH=/data" in env
    command = json.loads(next(arg for k, arg in steps if k == "CMD"))
    assert command[:2] == ["waypost", "serve"] and "0.0.0.0" in command
    assert next(arg for k, arg in steps if k == "EXPOSE") == command[command.index("--port") + 1]


@pytest.mark.slow
def test_the_dockerfile_steps_build_and_serve_the_demo(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    paths = {"/srv/waypost": str(tmp_path / "srv"), "/data": str(tmp_path / "data")}

    def moved(text: str) -> str:
        for old, new in paths.items():
            text = text.replace(old, new)
        return text

    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    env.pop("WAYPOST_INSTANCE_PATH", None)
    workdir = ROOT
    port = str(free_port())
    for keyword, arg in instructions():
        if keyword == "ENV":
            for pair in shlex.split(arg):
                name, _, value = pair.partition("=")
                env[name] = moved(value)
        elif keyword == "WORKDIR":
            workdir = tmp_path / "srv"
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, target = arg.split()
            for source in sources:
                destination = workdir / target if not target.startswith("/") else tmp_path / target
                if (ROOT / source).is_dir():
                    subprocess.run(["cp", "-r", str(ROOT / source), str(destination)], check=True)
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    subprocess.run(["cp", str(ROOT / source), str(destination)], check=True)
        elif keyword == "RUN":
            # The user exists only inside the image; the folder it owns is made all the same.
            command = moved(arg).replace("useradd", ": useradd").replace("chown waypost", ": chown")
            result = subprocess.run(
                command, shell=True, cwd=workdir, env=env, capture_output=True, text=True, timeout=900
            )
            assert result.returncode == 0, (command, result.stderr[-2000:])
    start = json.loads(next(arg for k, arg in instructions() if k == "CMD"))
    start = [port if part == "8000" else part for part in start]
    server = subprocess.Popen(start, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/en/")
        assert requests.get(f"http://127.0.0.1:{port}/ar/", timeout=30).status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert f"{tmp_path / 'data'}/waypost.bundle" in output and "building one" not in output
