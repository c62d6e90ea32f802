"""Publishing to static files and syncing a kiosk from them over a real loopback HTTP server."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from click.testing import CliRunner

from app import signing
from app.cli import main
from app.kiosk import import_bundle
from app.publish import MANIFEST, PublishError, object_path, publish
from app.sync import SyncError, cache_folder, sync
from app.trust import VerifyError, describe
from tests.helpers import edit_article, must, run_waypost

TODAY = date(2026, 11, 23)


class Hub:
    """A static file server on loopback that records what it is asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.fail_once: set[str] = set()
        hub = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                hub.requests.append(self.path)
                if self.path in hub.fail_once:
                    hub.fail_once.discard(self.path)
                    self.send_error(503)
                    return
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def objects_fetched(self) -> list[str]:
        return [path for path in self.requests if path.startswith("/objects/")]


@pytest.fixture
def hub(tmp_path):
    root = tmp_path / "hub"
    root.mkdir()
    served = Hub(root)
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    served.thread.join(timeout=10)


@pytest.fixture
def publish_to(publisher):
    key, key_id = signing.load_secret(publisher.secret)
    return lambda bundle_file, root: publish(bundle_file, root, key, key_id, TODAY)


@pytest.fixture
def first(content_dir, sign_bundle, tmp_path):
    return sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)


@pytest.fixture
def second(first, content_dir, sign_bundle, tmp_path):
    """Version 2: one English article changed."""
    edit_article(content_dir, "money-1", "Keep a copy", "Always keep a copy")
    return sign_bundle(content_dir, tmp_path / "v2.bundle", version=2)


def test_a_fresh_kiosk_syncs_the_whole_bundle_and_then_is_up_to_date(kiosk, hub, first, publish_to):
    counts = publish_to(first, hub.root)
    planned = []
    info = must(sync(kiosk, hub.url, TODAY, on_plan=lambda n, size: planned.append((n, size))))
    assert info.version == 1
    assert describe(kiosk.live).content_digest == describe(first).content_digest
    assert planned[0][0] == counts["objects"] == len(hub.objects_fetched())
    hub.requests.clear()
    assert sync(kiosk, hub.url, TODAY) is None
    assert hub.requests == ["/" + MANIFEST]


def test_after_one_article_changes_only_its_object_is_downloaded(kiosk, hub, first, second, publish_to):
    publish_to(first, hub.root)
    import_bundle(kiosk, first, TODAY)  # e.g. copied from a USB stick
    counts = publish_to(second, hub.root)
    assert counts["written"] == 1
    progress: list[int] = []
    info = must(sync(kiosk, hub.url, TODAY, progress=progress.append))
    assert info.version == 2
    fetched = hub.objects_fetched()
    assert len(fetched) == 1
    assert sum(progress) == (hub.root / fetched[0].lstrip("/")).stat().st_size
    assert describe(kiosk.live).content_digest == describe(second).content_digest
    assert not cache_folder(kiosk).exists()


def test_sync_from_a_folder_such_as_a_usb_stick(kiosk, first, publish_to, tmp_path):
    stick = tmp_path / "usb" / "waypost-hub"
    publish_to(first, stick)
    assert must(sync(kiosk, str(stick), TODAY)).version == 1


def test_a_refused_status_is_retried_with_backoff(kiosk, hub, first, publish_to):
    publish_to(first, hub.root)
    hub.fail_once.add("/" + MANIFEST)
    assert must(sync(kiosk, hub.url, TODAY)).version == 1
    assert hub.requests[:2] == ["/" + MANIFEST, "/" + MANIFEST]


def _corrupt_object(root: Path, changed: Path) -> None:
    changed.write_bytes(brotli.compress(b'{"not": "what was published"}'))


def _missing_object(root: Path, changed: Path) -> None:
    changed.unlink()


def _altered_manifest(root: Path, changed: Path) -> None:
    path = root / MANIFEST
    text = brotli.decompress(path.read_bytes()).decode().replace('bundle_version\\":\\"2', 'bundle_version\\":\\"9')
    assert '\\"9' in text
    path.write_bytes(brotli.compress(text.encode()))


def _truncated_manifest(root: Path, changed: Path) -> None:
    path = root / MANIFEST
    path.write_bytes(path.read_bytes()[:100])


FAILURES = [
    (_corrupt_object, "is damaged (its hash does not match)"),
    (_missing_object, "answered HTTP 404"),
    (_altered_manifest, "signature does not match"),
    (_truncated_manifest, "not a Waypost manifest"),
]


@pytest.mark.parametrize(("spoil", "words"), FAILURES, ids=[f[0].__name__.strip("_") for f in FAILURES])
def test_a_broken_hub_leaves_the_live_bundle_untouched(kiosk, hub, first, second, publish_to, spoil, words):
    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    publish_to(first, hub.root)
    old = set((hub.root / "objects").rglob("*.br"))
    publish_to(second, hub.root)
    (changed,) = set((hub.root / "objects").rglob("*.br")) - old
    spoil(hub.root, changed)
    with pytest.raises(SyncError) as caught:
        sync(kiosk, hub.url, TODAY)
    assert words in str(caught.value)
    assert kiosk.live.read_bytes() == before


def test_an_unreachable_hub_gives_one_clear_line(kiosk, first, tmp_path, monkeypatch):
    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    monkeypatch.setattr("app.sync.BACKOFF_FACTOR", 0.01)
    with pytest.raises(SyncError, match="cannot reach 127.0.0.1:9: the connection failed or was refused"):
        sync(kiosk, "http://127.0.0.1:9/", TODAY)
    assert kiosk.live.read_bytes() == before


def test_publish_needs_the_key_the_bundle_was_signed_with(kiosk, hub, first, tmp_path):
    stranger, _ = signing.new_keypair(tmp_path / "stranger", "Stranger")
    key, key_id = signing.load_secret(stranger)
    with pytest.raises(PublishError, match="publish it with that key"):
        publish(first, hub.root, key, key_id, TODAY)


def test_a_full_disk_stops_the_sync_with_one_line(kiosk, hub, first, second, publish_to, monkeypatch):
    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    publish_to(second, hub.root)

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("app.sync._store", full)
    with pytest.raises(SyncError, match="the disk is full"):
        sync(kiosk, hub.url, TODAY)
    assert kiosk.live.read_bytes() == before


def test_the_command_shows_what_it_downloads_and_one_line_on_failure(kiosk, hub, first, publish_to, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    publish_to(first, hub.root)
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WAYPOST_BUNDLE", str(kiosk.live))
    monkeypatch.setenv("WAYPOST_TRUSTED_KEYS", str(kiosk.trusted_keys))
    done = CliRunner().invoke(main, ["sync", hub.url])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("downloading ") and "installed version 1 from Test NGO" in done.output
    nowhere = CliRunner().invoke(main, ["sync", str(tmp_path / "no-such-folder")])
    assert nowhere.exit_code == 1
    assert nowhere.output.strip().splitlines() == [
        f"error: not updated: {tmp_path / 'no-such-folder'} is neither a web address nor a folder"
    ]


SYNC_CRASHES = ["sync-manifest", "sync-object", "sync-assembled", "import-verified", "import-replaced"]


@pytest.mark.parametrize("point", SYNC_CRASHES)
@pytest.mark.slow
def test_a_sync_killed_at_any_step_leaves_a_working_kiosk_and_resumes(kiosk, hub, first, second, publish_to,
                                                                      tmp_path, point):  # fmt: skip
    import_bundle(kiosk, first, TODAY)
    publish_to(second, hub.root)
    edit_article_objects = 1
    killed = run_waypost(kiosk, tmp_path, "sync", hub.url, crash_at=point)
    assert killed.returncode == -9, killed.stderr
    assert describe(kiosk.live).version == (2 if point == "import-replaced" else 1)
    fetched_before = len(hub.objects_fetched())
    rerun = run_waypost(kiosk, tmp_path, "sync", hub.url)
    assert rerun.returncode == 0, rerun.stderr
    assert describe(kiosk.live).version == 2
    # What the killed run downloaded was kept: nothing is fetched twice.
    assert len(hub.objects_fetched()) == edit_article_objects
    assert fetched_before == (0 if point == "sync-manifest" else 1)


def test_publish_refuses_an_unsigned_bundle(bundle_path, publish_to, tmp_path):
    result = CliRunner().invoke(main, ["publish", str(bundle_path), str(tmp_path / "out"), "--key", __file__])
    assert result.exit_code == 1 and "not a Waypost secret key file" in result.output
    with pytest.raises(VerifyError, match="is not signed") as refused:
        publish_to(bundle_path, tmp_path / "out")
    assert refused.value.kind == "unsigned"
    assert not (tmp_path / "out").exists()


def test_objects_are_named_by_the_hash_of_their_content(first, publish_to, tmp_path):
    publish_to(first, tmp_path / "hub")
    for path in (tmp_path / "hub" / "objects").rglob("*.br"):
        digest = path.name.removesuffix(".br")
        assert hashlib.sha256(brotli.decompress(path.read_bytes())).hexdigest() == digest
        assert path == object_path(tmp_path / "hub", digest)
