"""The offline installer: one folder that puts Waypost on a kiosk with no internet.

Made on a connected computer (`waypost kiosk make-installer OUT`), it holds:

- `wheels/`: every locked dependency as a binary wheel for each target
  (Linux x86_64 and aarch64, that is a PC or a Raspberry Pi, for each
  Python from 3.11), checked against the lock's hashes by pip as it
  downloads, plus Waypost's own wheel and pip's;
- `requirements.txt` (the runtime lock, so the kiosk's pip checks the hashes
  again), `guidance.bundle` (the signed bundle) and `root.json` (the
  publisher's trust root), both checked against each other before copying;
- `install.sh`, `systemd/`, `udev/`, `deploy/waypost.env`, and `SHA256SUMS`
  over every file, which install.sh checks first.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app import settings
from app.distribution.envelope import is_envelope
from app.distribution.root import load_root
from app.distribution.trust import BundleInfo, verify_bundle
from app.refusal import VerifyError

ARCHITECTURES = ("x86_64", "aarch64")
PYTHONS = ("3.11", "3.12", "3.13")
# manylinux tags up to glibc 2.36, the C library of Debian 12 and Raspberry Pi OS 12.
GLIBC_MINORS = range(17, 37)
UNITS = ("waypost.service", "waypost-sync.service", "waypost-sync.timer", "waypost-usb.service")


class InstallerError(Exception):
    """An installer folder that cannot be made; said in one line."""


@dataclass(frozen=True)
class Target:
    """One machine the wheels are for: a processor and a Python version."""

    arch: str
    python: str

    def pip_args(self) -> list[str]:
        """Return pip download's options for this target."""
        tags = [f"manylinux_2_{minor}_{self.arch}" for minor in GLIBC_MINORS]
        tags += [f"manylinux2014_{self.arch}", f"linux_{self.arch}"]
        abi = "cp" + self.python.replace(".", "")
        args = ["--python-version", self.python, "--implementation", "cp"]
        args += [arg for tag in tags for arg in ("--platform", tag)]
        return args + ["--abi", abi, "--abi", "abi3", "--abi", "none"]


def default_targets() -> list[Target]:
    """Return every target a kiosk may be: each processor with each Python."""
    return [Target(arch, python) for arch in ARCHITECTURES for python in PYTHONS]


def make_installer(
    out: Path,
    bundle: Path,
    root_file: Path,
    today: date,
    *,
    targets: Sequence[Target] | None = None,
    wheel: Path | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, int]:
    """Write the offline installer folder `out`; targets None means this machine only. Return counts.

    The bundle must verify against the root first: an installer that would
    refuse its own guidance on the kiosk is caught here, where there is help.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InstallerError(f"{out} exists and is not an empty folder; name a new folder")
    info = _check_guidance(bundle, root_file, today)
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    requirements = shipped_file("requirements", "runtime.txt")
    for target in targets if targets is not None else [None]:
        progress(f"downloading wheels for {target.arch}, Python {target.python}" if target else "downloading wheels")
        extra = target.pip_args() if target else []
        _pip("download", "--only-binary=:all:", "--require-hashes", "-r", str(requirements), "-d", str(wheels), *extra)
    progress("adding pip and Waypost's own wheel")
    _pip("download", "--only-binary=:all:", "--no-deps", "pip", "-d", str(wheels))
    if wheel is not None:
        shutil.copy2(wheel, wheels / wheel.name)
    else:
        _build_own_wheel(wheels)
    shutil.copy2(requirements, out / "requirements.txt")
    shutil.copy2(bundle, out / "guidance.bundle")
    shutil.copy2(root_file, out / "root.json")
    deploy = settings.shipped("deploy")
    shutil.copy2(deploy / "install.sh", out / "install.sh")
    (out / "install.sh").chmod(0o755)
    (out / "systemd").mkdir(exist_ok=True)
    for unit in UNITS:
        shutil.copy2(deploy / "systemd" / unit, out / "systemd" / unit)
    (out / "udev").mkdir(exist_ok=True)
    shutil.copy2(deploy / "udev" / "99-waypost-usb.rules", out / "udev")
    (out / "deploy").mkdir(exist_ok=True)
    shutil.copy2(deploy / "waypost.env", out / "deploy" / "waypost.env")
    files = write_checksums(out)
    return {"wheels": len(list(wheels.glob("*.whl"))), "files": files, "version": info.version}


def write_checksums(folder: Path) -> int:
    """Write SHA256SUMS (`sha256sum -c` format) over every file of folder; return how many."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return len(lines)


def shipped_file(folder: str, name: str) -> Path:
    """Return a file Waypost ships (the checkout's own, or the wheel's copy)."""
    path = settings.shipped(folder) / name
    if not path.is_file():
        raise InstallerError(f"{path} is missing from this Waypost: run make-installer from a checkout")
    return path


def _check_guidance(bundle: Path, root_file: Path, today: date) -> BundleInfo:
    if not is_envelope(bundle):
        raise InstallerError(f"{bundle} is not a signed bundle: build it with `waypost build --sign KEY`")
    try:
        root = load_root(Path(root_file).read_bytes(), name=str(root_file))
        with tempfile.TemporaryDirectory(prefix="waypost-installer-") as work:
            return verify_bundle(bundle, root, today, Path(work) / "check.sqlite", name=str(bundle))
    except OSError as exc:
        raise InstallerError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except VerifyError as exc:
        raise InstallerError(f"the kiosk would refuse this guidance: {exc}") from None


def _build_own_wheel(wheels: Path) -> None:
    """Build Waypost's wheel from a copy of the checkout, so the build writes nothing into it."""
    root = settings.PROJECT_ROOT
    if not (root / "pyproject.toml").is_file():
        raise InstallerError("Waypost's own wheel needs a checkout to build from; or pass --wheel waypost-*.whl")
    with tempfile.TemporaryDirectory(prefix="waypost-wheel-") as folder:
        tree = Path(folder) / "waypost"
        tree.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, tree / name)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.egg-info")
        for name in ("app", "content", "translations", "service_worker", "deploy", "requirements"):
            shutil.copytree(root / name, tree / name, ignore=skip)
        _pip("wheel", "--no-deps", "-w", str(wheels), str(tree))


def _pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet"], capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")] or result.stderr.splitlines()
        raise InstallerError(f"pip {args[0]} failed: {(lines or ['no message'])[-1].strip()}")
