"""Publishing to static files and syncing a kiosk from them over a real loopback HTTP server."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import threading
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from app.distribution import signing
from app.distribution.kiosk import import_bundle
from app.distribution.publish import MANIFEST, TIMESTAMP, object_path, publish, write_timestamp
from app.distribution.root import load_root
from app.distribution.sync import SyncError, cache_folder, sync
from app.distribution.trust import VerifyError, describe
from app.kiosk_state import now
from app.refusal import Refusal
from tests.helpers import edit_article, must, run_waypost

# Hubs are published with a timestamp valid for 7 days, and the CLI in a subprocess
# checks it against the real clock: so the tests publish and sync on the real date.
TODAY = now().date()


class Hub:
    """A static file server on loopback that records what it is asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        self.fail_once: set[str] = set()
        self.retry_after: int | None = None
        hub = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                hub.requests.append(self.path)
                if self.path in hub.fail_once:
                    hub.fail_once.discard(self.path)
                    self.send_response(503)
                    if hub.retry_after is not None:
                        self.send_header("Retry-After", str(hub.retry_after))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
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
def trusted_root(publisher):
    return load_root(publisher.root.read_bytes())


@pytest.fixture
def publish_to(publisher, trusted_root):
    key, key_id = signing.load_secret(publisher.secret)
    return lambda bundle_file, root: publish(bundle_file, root, key, key_id, trusted_root, TODAY)


# What a kiosk that is up to date asks a hub: the next root, the timestamp, the manifest.
CHECKS = ["/roots/2.json", "/" + TIMESTAMP, "/" + MANIFEST]


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
    assert hub.requests == CHECKS


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
    assert hub.requests[:4] == [*CHECKS, "/" + MANIFEST]


def _corrupt_object(root: Path, changed: Path) -> None:
    changed.write_bytes(brotli.compress(b'{"not": "what was published"}'))


def _missing_object(root: Path, changed: Path) -> None:
    changed.unlink()


def _altered_manifest(root: Path, changed: Path) -> None:
    # Altered, then named by a fresh timestamp, as a hub's operator could: only the signature is left to catch it.
    path = root / MANIFEST
    text = brotli.decompress(path.read_bytes()).decode().replace('bundle_version\\":2', 'bundle_version\\":9')
    assert 'bundle_version\\":9' in text
    path.write_bytes(brotli.compress(text.encode()))
    _restamp(root)


def _old_manifest(root: Path, changed: Path) -> None:
    # A frozen hub: the signed version-1 manifest served again beside the current timestamp.
    (root / MANIFEST).write_bytes((root / "manifest-v1.json.br").read_bytes())


def _truncated_manifest(root: Path, changed: Path) -> None:
    path = root / MANIFEST
    path.write_bytes(path.read_bytes()[:100])


def _expired_timestamp(root: Path, changed: Path) -> None:
    _restamp(root, days_before=30)


def _no_timestamp(root: Path, changed: Path) -> None:
    (root / TIMESTAMP).unlink()


def _restamp(root: Path, days_before: int = 0) -> None:
    secret = signing.load_secret(Path(os.environ["WAYPOST_TEST_KEY"]))
    write_timestamp(root, *secret, load_root((root / "root.json").read_bytes()), TODAY - timedelta(days_before), 7)


FAILURES = [
    (_corrupt_object, "is damaged (its hash does not match)"),
    (_missing_object, "answered HTTP 404"),
    (_altered_manifest, "does not match its signature"),
    (_truncated_manifest, "manifest is not the one its signed timestamp names"),
    (_old_manifest, "may be an old manifest served again"),
    (_expired_timestamp, "the hub's timestamp expired on"),
    (_no_timestamp, "answered HTTP 404"),
]


@pytest.mark.parametrize(("spoil", "words"), FAILURES, ids=[f[0].__name__.strip("_") for f in FAILURES])
def test_a_broken_hub_leaves_the_live_bundle_untouched(
    kiosk, hub, first, second, publish_to, spoil, words, publisher, monkeypatch
):
    monkeypatch.setenv("WAYPOST_TEST_KEY", str(publisher.secret))
    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    publish_to(first, hub.root)
    (hub.root / "manifest-v1.json.br").write_bytes((hub.root / MANIFEST).read_bytes())
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
    monkeypatch.setattr("app.distribution.sync.BACKOFF_FACTOR", 0.01)
    with pytest.raises(SyncError, match="cannot reach 127.0.0.1:9: the connection failed or was refused"):
        sync(kiosk, "http://127.0.0.1:9/", TODAY)
    assert kiosk.live.read_bytes() == before


def test_publish_needs_a_key_the_root_lets_sign(kiosk, hub, first, tmp_path, trusted_root):
    stranger, _ = signing.new_keypair(tmp_path / "stranger", "Stranger")
    key, key_id = signing.load_secret(stranger)
    with pytest.raises(VerifyError, match="which this kiosk's trust root does not list") as refused:
        publish(first, hub.root, key, key_id, trusted_root, TODAY)
    assert refused.value.kind == Refusal.UNKNOWN_KEY
    assert not (hub.root / MANIFEST).exists()


def test_a_full_disk_stops_the_sync_with_one_line(kiosk, hub, first, second, publish_to, monkeypatch):
    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    publish_to(second, hub.root)

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("app.distribution.sync.fsutil.atomic_write", full)
    with pytest.raises(SyncError, match="the disk is full"):
        sync(kiosk, hub.url, TODAY)
    assert kiosk.live.read_bytes() == before


def test_the_command_shows_what_it_downloads_and_one_line_on_failure(
    kiosk, hub, first, publish_to, tmp_path, monkeypatch
):
    publish_to(first, hub.root)
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WAYPOST_BUNDLE", str(kiosk.live))
    monkeypatch.setenv("WAYPOST_TRUST_DIR", str(kiosk.trust))
    done = CliRunner().invoke(main, ["sync", hub.url])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("downloading ") and "installed version 1 from 'test-ngo'" in done.output
    nowhere = CliRunner().invoke(main, ["sync", str(tmp_path / "no-such-folder")])
    assert nowhere.exit_code == 1
    assert nowhere.output.strip().splitlines() == [
        f"error: not updated: {tmp_path / 'no-such-folder'} does not exist: give the hub's web address "
        "(https://...) or the folder `waypost publish` wrote"
    ]


SYNC_CRASHES = ["sync-manifest", "sync-object", "sync-assembled", "import-verified", "import-replaced"]


@pytest.mark.parametrize("point", SYNC_CRASHES)
@pytest.mark.slow
def test_a_sync_killed_at_any_step_leaves_a_working_kiosk_and_resumes(
    kiosk, hub, first, second, publish_to, tmp_path, point
):
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


def test_publish_refuses_an_unsigned_bundle(bundle_path, publish_to, tmp_path, publisher):
    args = ["publish", str(bundle_path), str(tmp_path / "out"), "--key", __file__, "--root", str(publisher.root)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "not a Waypost secret key file" in result.output
    with pytest.raises(VerifyError, match="is not signed") as refused:
        publish_to(bundle_path, tmp_path / "out")
    assert refused.value.kind == Refusal.UNSIGNED
    assert not (tmp_path / "out").exists()


def test_objects_are_named_by_the_hash_of_their_content(first, publish_to, tmp_path):
    publish_to(first, tmp_path / "hub")
    for path in (tmp_path / "hub" / "objects").rglob("*.br"):
        digest = path.name.removesuffix(".br")
        assert hashlib.sha256(brotli.decompress(path.read_bytes())).hexdigest() == digest
        assert path == object_path(tmp_path / "hub", digest)


# A hostile or broken hub cannot hang, freeze or pile up a kiosk's syncs.


def test_a_hub_sending_a_byte_at_a_time_is_stopped_by_the_deadline(kiosk, first, publish_to, tmp_path):
    import socket

    publish_to(first, tmp_path / "hub")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            # One byte every 0.2 s: each read arrives well inside any read timeout.
            for _ in range(200):
                if stop.is_set():
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                stop.wait(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        with pytest.raises(SyncError, match="took longer than its limit"):
            sync(kiosk, f"http://127.0.0.1:{listener.getsockname()[1]}/", TODAY, deadline=1.5)
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=10)
    assert not kiosk.live.exists()


def test_retry_after_is_followed_only_up_to_a_cap(kiosk, hub, first, publish_to, monkeypatch):
    publish_to(first, hub.root)
    monkeypatch.setattr("app.distribution.sync.RETRY_AFTER_CAP", 0.1)
    hub.retry_after = 3600  # a hub asking the kiosk to wait an hour
    hub.fail_once.add("/" + TIMESTAMP)
    assert must(sync(kiosk, hub.url, TODAY)).version == 1
    assert hub.requests.count("/" + TIMESTAMP) == 2


def test_a_pipe_in_a_folder_hub_is_refused_without_blocking(kiosk, first, publish_to, tmp_path):
    stick = tmp_path / "usb"
    publish_to(first, stick)
    (stick / TIMESTAMP).unlink()
    os.mkfifo(stick / TIMESTAMP)
    with pytest.raises(SyncError, match="is not a plain file"):
        sync(kiosk, str(stick), TODAY)


def test_only_one_sync_runs_at_a_time(kiosk, first, publish_to, tmp_path):
    import fcntl

    publish_to(first, tmp_path / "hub")
    kiosk.live.parent.mkdir(parents=True, exist_ok=True)
    with kiosk.live.with_name(kiosk.live.name + ".sync-lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SyncError, match="another sync is running"):
            sync(kiosk, str(tmp_path / "hub"), TODAY)
    assert must(sync(kiosk, str(tmp_path / "hub"), TODAY)).version == 1


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"key_id": "0123456789abcdef", "signature": 12345, "body": "{}"}', b"\xff\xfe"],
    ids=["deeply-nested", "integer-signature", "not-utf8"],
)
def test_hostile_hub_files_give_one_line(trusted_root, body):
    from app.distribution.publish import PublishError, read_manifest, read_timestamp

    with pytest.raises(PublishError, match="not a Waypost timestamp"):
        read_timestamp(body, trusted_root, TODAY)
    with pytest.raises(PublishError, match="not a Waypost manifest|manifest is damaged"):
        read_manifest(brotli.compress(body), trusted_root, TODAY)


def test_a_kiosk_follows_the_publishers_key_rotation_through_the_hub(
    kiosk, hub, first, content_dir, publisher, trusted_root, tmp_path
):
    from app.content.load import load_content
    from app.distribution.root import edit_root, make_root, signed_fields

    from .helpers import root_row, signed_build

    key = signing.load_secret(publisher.secret)[0]
    new_secret, _ = signing.new_keypair(tmp_path / "new-laptop", "New laptop")
    new_key, new_id = signing.load_secret(new_secret)
    v2 = load_root(
        make_root(2, date(2099, 1, 1), [root_row(key, "Test NGO"), root_row(new_key, "New laptop")], [key]),
        trusted_root,
    )
    # v3 drops the old key; only the new one signs bundles from now on.
    v3 = load_root(edit_root(v2, [key, new_key], keys={new_id: signed_fields(v2)["keys"][new_id]}), v2)
    edit_article(content_dir, "money-1", "Keep a copy", "Always keep a copy")
    newer = signed_build(load_content(content_dir), tmp_path / "v2.bundle", new_secret, version=2)
    publish(first, hub.root, key, publisher.key_id, trusted_root, TODAY)
    import_bundle(kiosk, first, TODAY)
    from app.distribution.publish import write_roots

    write_roots(hub.root, v2)
    publish(newer, hub.root, new_key, new_id, v3, TODAY)
    assert must(sync(kiosk, hub.url, TODAY)).version == 2
    assert must(kiosk.root()).version == 3 and publisher.key_id not in must(kiosk.root()).keys


def test_a_full_disk_while_assembling_gives_one_line(kiosk, hub, first, second, publish_to, monkeypatch):
    import sqlite3

    import_bundle(kiosk, first, TODAY)
    before = kiosk.live.read_bytes()
    publish_to(second, hub.root)

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("app.distribution.objects.write_bundle", full)
    with pytest.raises(SyncError, match="is the disk full"):
        sync(kiosk, hub.url, TODAY)
    assert kiosk.live.read_bytes() == before


@pytest.fixture(scope="module")
def signed_manifest(tmp_path_factory, publisher):
    """The raw manifest a real publish writes, and the root to read it with."""
    from app.content.load import load_content

    from .helpers import signed_build, write_content

    root = tmp_path_factory.mktemp("manifest")
    bundle = signed_build(load_content(write_content(root / "content")), root / "b.bundle", publisher.secret)
    key, key_id = signing.load_secret(publisher.secret)
    trusted = load_root(publisher.root.read_bytes())
    publish(bundle, root / "hub", key, key_id, trusted, TODAY)
    return brotli.decompress((root / "hub" / MANIFEST).read_bytes()), trusted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        [
            ("bundle", "bundle_version"),
            ("bundle", "content_digest"),
            ("bundle", "expires"),
            ("bundle", "key_id"),
            ("bundle", "publisher"),
            ("bundle", "languages"),
            ("format",),
            ("objects", 0, "sha256"),
            ("objects", 0, "size"),
            ("objects", 1, "row_id"),
        ]
    ),
    value=st.one_of(st.integers(-(10**20), 10**20), st.text(max_size=30), st.none(), st.lists(st.integers())),
)
def test_any_changed_manifest_field_is_refused(signed_manifest, path, value):
    import json

    from app.distribution.publish import PublishError, read_manifest

    raw, trusted = signed_manifest
    wrapper = json.loads(raw)
    body = json.loads(wrapper["body"])
    target = body
    for key in path[:-1]:
        target = target[key]
    if target[path[-1]] == value:
        return
    target[path[-1]] = value
    wrapper["body"] = json.dumps(body)
    with pytest.raises(PublishError):
        read_manifest(brotli.compress(json.dumps(wrapper).encode()), trusted, TODAY)
