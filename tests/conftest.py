"""Shared fixtures: small real content folders, built into real bundles."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from app.bundle import blocks
from app.bundle import read as bundle
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.distribution import signing
from app.distribution.kiosk import Kiosk
from app.distribution.root import make_root
from app.web import create_app

from .helpers import PUBLISHER_ID, Publisher, root_row, signed_build, write_content


@pytest.fixture(autouse=True)
def instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test app its own instance folder, so no test writes into the checkout.

    Test apps look at the bundle and kiosk-state files at every request
    (SWAP_CHECK_SECONDS 0), so a test that replaces one sees the change at
    once; tests/test_store.py checks the server's own interval.
    """
    folder = tmp_path / "instance"
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("WAYPOST_SWAP_CHECK_SECONDS", "0")
    return folder


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A fresh copy of the small valid content set."""
    return write_content(tmp_path / "content")


@pytest.fixture
def bundle_path(content_dir: Path, tmp_path: Path) -> Path:
    """A bundle built from the small content set by the real builder."""
    content = load_content(content_dir)
    assert not content.errors, [str(p) for p in content.errors]
    out = tmp_path / "test.bundle"
    build_bundle(content, out)
    return out


@pytest.fixture
def make_app(bundle_path: Path, tmp_path: Path):
    """Return a factory of apps over the test bundle, with settings overridden."""

    def make(**overrides):
        config = {"TESTING": True, "BUNDLE": str(bundle_path)}
        config.update(overrides)
        return create_app(config)

    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


@pytest.fixture
def copy_of(tmp_path: Path):
    """Copy a file into tmp_path, so a test may change it freely."""

    def copy(path: Path) -> Path:
        target = tmp_path / ("copy-" + path.name)
        shutil.copy(path, target)
        return target

    return copy


@pytest.fixture
def connect():
    """Open bundles read-only, closing every one of them when the test ends."""
    opened = []

    def open_bundle(path: Path):
        conn = bundle.connect(path)
        opened.append(conn)
        return conn

    yield open_bundle
    for conn in opened:
        conn.close()


@pytest.fixture(scope="session")
def publisher(tmp_path_factory) -> Publisher:
    """A publisher key pair made by the real key generator, and a root that gives it every role."""
    folder = tmp_path_factory.mktemp("keys")
    secret, public = signing.new_keypair(folder / "test-ngo", "Test NGO")
    key = signing.load_secret(secret)[0]
    root = folder / "root.json"
    root.write_bytes(make_root(1, date(2099, 1, 1), [root_row(key, "Test NGO")], [key]))
    return Publisher(secret, public, root)


@pytest.fixture
def sign_bundle(publisher: Publisher):
    """Return a function that builds a content folder into a signed bundle file (an envelope)."""

    def make(
        content_dir: Path,
        out: Path,
        version: int = 1,
        expires: date = date(2099, 1, 1),
        secret: Path | None = None,
        publisher_id: str = PUBLISHER_ID,
    ) -> Path:
        content = load_content(content_dir)
        assert not content.errors, [str(p) for p in content.errors]
        return signed_build(content, out, secret or publisher.secret, version, expires, publisher_id)

    return make


@pytest.fixture
def kiosk(tmp_path: Path, publisher: Publisher) -> Kiosk:
    """A kiosk with no bundle yet whose root trusts the test publisher."""
    trust = tmp_path / "kiosk" / "trust"
    trust.mkdir(parents=True)
    shutil.copy(publisher.root, trust / "root.json")
    return Kiosk(live=tmp_path / "kiosk" / "waypost.bundle", trust=trust, keep=2)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks and dictionaries a few articles long, so the small content set spans many of each."""
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 600)
    monkeypatch.setattr(blocks, "DICTIONARY_BYTES", 900)
