"""The project's own files: the lock matches pyproject.toml, one version, the licence."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import app

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, str]:
    """Return {name: version} for every package a requirements lock pins."""
    found: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


@pytest.mark.parametrize(("lock", "extras"), [("requirements/runtime.txt", ()), ("requirements/test.txt", ("test",))])
def test_the_lock_pins_every_dependency_within_its_bounds(lock, extras):
    wanted = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        wanted += PYPROJECT["project"]["optional-dependencies"][extra]
    pinned = pins(ROOT / lock)
    for spec in map(Requirement, wanted):
        name = canonicalize_name(spec.name)
        assert name in pinned, f"{spec.name} is not in {lock}: run scripts/upgrade-deps --relock"
        assert spec.specifier.contains(pinned[name]), f"{lock} pins {name} {pinned[name]}, outside {spec}"
    # Every pin carries hashes, so pip refuses a file that is not the one CI used.
    blocks = re.split(r"\n(?=\S)", (ROOT / lock).read_text(encoding="utf-8"))
    requirements = [b for b in blocks if not b.startswith("#")]
    assert len(requirements) == len(pinned)
    assert all(PIN.match(b) and "--hash=sha256:" in b for b in requirements), lock


def test_the_runtime_lock_holds_nothing_only_the_tests_need():
    runtime, test = pins(ROOT / "requirements/runtime.txt"), pins(ROOT / "requirements/test.txt")
    assert not {"pytest", "playwright", "mypy", "ruff"} & runtime.keys()
    # Both locks agree on every package they share.
    assert {name: test[name] for name in runtime} == runtime


def test_the_build_backend_is_the_locked_one():
    # An unpinned build requirement lets a fresh machine build with whatever setuptools is newest that day.
    locked = pins(ROOT / "requirements/build.txt")
    assert list(locked) == ["setuptools"]
    assert PYPROJECT["build-system"]["requires"] == [f"setuptools=={locked['setuptools']}"]
    text = (ROOT / "requirements/build.txt").read_text(encoding="utf-8")
    assert "--hash=sha256:" in text
    # Every install of Waypost builds it with that setuptools, not one fetched into a build environment.
    for name in ("scripts/test", "README.md", "Dockerfile"):
        install = (ROOT / name).read_text(encoding="utf-8")
        assert "requirements/build.txt" in install and "--no-build-isolation" in install, name


def test_the_version_is_written_once():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "app.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", app.__version__)


def test_the_licence_is_the_agpl_that_pyproject_claims():
    assert PYPROJECT["project"]["license"] == "AGPL-3.0-or-later"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("GNU AFFERO GENERAL PUBLIC LICENSE\nVersion 3, 19 November 2007")
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in text


def test_signing_keys_are_never_committed():
    assert "*.key" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_every_subpackage_of_app_is_in_the_wheel():
    # pyproject lists the packages by hand (three are mapped folders); a new room must be added there.
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    rooms = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "app").rglob("__init__.py")}
    assert rooms <= listed, sorted(rooms - listed)
