"""Update a kiosk from a hub over HTTP(S), or from a folder or USB stick.

In order: follow the publisher's root if it rotated (`roots/N.json`), check
the hub's signed timestamp is current (a hub frozen on an old manifest is
noticed within days), check the manifest is the one the timestamp names and
that a key the root trusts signed it, then download only the objects the
kiosk lacks, checking each hash as it arrives. The bundle assembled from them
must carry the digest the publisher signed, and it is installed through the
same checks and the same atomic swap as a bundle file.

Every sync has one overall deadline, waits at most a bounded time for a
`Retry-After`, never blocks on a pipe or device in a folder hub, and runs one
at a time: a second sync started by cron while one runs stops at once.
Whatever fails, the live bundle is left as it was.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app import __version__, fsutil, kiosk_state
from app.bundle import read as bundle
from app.bundle.schema import schema_refusal
from app.distribution.envelope import is_envelope
from app.distribution.kiosk import (
    ImportRefused,
    Kiosk,
    check_newer,
    crash_point,
    enforce_trust,
    install_assembled,
    locked,
    trust_root,
)
from app.distribution.publish import (
    MANIFEST,
    MAX_TIMESTAMP,
    TIMESTAMP,
    PublishError,
    assemble,
    object_path,
    pieces,
    read_manifest,
    read_timestamp,
    unpack,
)
from app.distribution.root import MAX_ROOT_BYTES, Root
from app.distribution.trust import BundleInfo
from app.refusal import VerifyError, kiosk_hint, printable

# Seconds to wait for a connection, and for each read.
TIMEOUT = (10, 30)
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
# Failed requests are retried 4 times, after 0.5, 1, 2 and 4 seconds, and a
# hub's Retry-After is followed for at most RETRY_AFTER_CAP seconds.
RETRIES = 4
BACKOFF_FACTOR = 0.5
RETRY_AFTER_CAP = 30
CHUNK = 64 * 1024
DEFAULT_DEADLINE = 30 * 60
MAX_ROOT_STEPS = 100


class SyncError(Exception):
    """A sync that stopped; the message is the one clear reason shown to the NGO."""


def _not_a_hub(where: str, path: Path) -> str:
    """Say why a path is no hub folder, and what to run instead when it names a bundle file."""
    if path.is_file() and (is_envelope(path) or path.suffix in (".bundle", ".sqlite")):
        return f"{where} is a bundle file, not a hub folder: install it with `waypost bundle import {path}`"
    what = "does not exist" if not path.exists() else "is not a folder"
    return f"{where} {what}: give the hub's web address (https://...) or the folder `waypost publish` wrote"


class _CappedRetry(Retry):
    """urllib3's retry, but a hub cannot make a kiosk wait hours with Retry-After."""

    def get_retry_after(self, response: Any) -> float | None:
        found = super().get_retry_after(response)
        return None if found is None else min(found, RETRY_AFTER_CAP)


class Hub:
    """Where published files come from: a web address or a folder, within one deadline."""

    def __init__(self, where: str, deadline: float = DEFAULT_DEADLINE) -> None:
        self.where = where
        self.ends = time.monotonic() + deadline
        self.deadline = deadline
        split = urlsplit(where)
        self.http = split.scheme in ("http", "https")
        if self.http:
            self.base = where if where.endswith("/") else where + "/"
            self.session = requests.Session()
            retry = _CappedRetry(
                total=RETRIES,
                backoff_factor=BACKOFF_FACTOR,
                backoff_max=RETRY_AFTER_CAP,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=frozenset({"GET"}),
                raise_on_status=False,
            )
            self.session.mount("http://", HTTPAdapter(max_retries=retry))
            self.session.mount("https://", HTTPAdapter(max_retries=retry))
            # Ask for the bytes as published: objects are compressed already.
            self.session.headers.update({"Accept-Encoding": "identity", "User-Agent": f"Waypost/{__version__}"})
        else:
            self.folder = Path(split.path if split.scheme == "file" else where)
            if not self.folder.is_dir():
                raise SyncError(_not_a_hub(where, self.folder))

    def fetch(
        self, name: str, limit: int, progress: Callable[[int], None] | None = None, *, missing_ok: bool = False
    ) -> bytes | None:
        """Return one published file, refusing one longer than limit bytes; None if missing and missing_ok."""
        self._check_deadline()
        if not self.http:
            return self._read_file(name, limit, progress, missing_ok)
        url = urljoin(self.base, name)
        remaining = self.ends - time.monotonic()
        try:
            with self.session.get(
                url, timeout=(min(TIMEOUT[0], remaining), min(TIMEOUT[1], remaining)), stream=True
            ) as response:
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code != 200:
                    raise SyncError(f"{url} answered HTTP {response.status_code}")
                received = bytearray()
                # read1 returns what has arrived, so a hub trickling one byte at a
                # time is still measured against the deadline after each read.
                while len(received) <= limit:
                    chunk = response.raw.read1(CHUNK)
                    if not chunk:
                        break
                    received += chunk
                    if progress:
                        progress(len(chunk))
                    self._check_deadline()
        except requests.RequestException as exc:
            raise SyncError(f"cannot reach {urlsplit(url).netloc}: {_reason(exc)}") from None
        return self._limited(name, bytes(received), limit, None)

    def _read_file(
        self, name: str, limit: int, progress: Callable[[int], None] | None, missing_ok: bool
    ) -> bytes | None:
        path = self.folder / name
        try:
            with fsutil.open_regular(path) as f:
                data = f.read(limit + 1)
        except FileNotFoundError:
            if missing_ok:
                return None
            raise SyncError(f"{path} is missing from the published folder") from None
        except fsutil.NotRegularFile:
            raise SyncError(f"{path} is not a plain file (a pipe or a device?); the hub folder is not usable") from None
        except OSError as exc:
            raise SyncError(f"cannot read {path}: {exc.strerror}") from None
        return self._limited(name, data, limit, progress)

    def _check_deadline(self) -> None:
        if time.monotonic() > self.ends:
            raise SyncError(
                f"the sync took longer than its limit of {self.deadline / 60:.0f} minutes and stopped; "
                "what arrived is kept, and the next sync goes on from there"
            )

    def close(self) -> None:
        """Close the connection pool, if any."""
        if self.http:
            self.session.close()

    @staticmethod
    def _limited(name: str, data: bytes, limit: int, progress: Callable[[int], None] | None) -> bytes:
        if len(data) > limit:
            raise SyncError(f"{name} is larger than the manifest says; the hub's files do not match")
        if progress:
            progress(len(data))
        return data


def plan(kiosk: Kiosk, manifest: dict[str, Any]) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """Return the objects the kiosk has (JSON by hash) and the manifest entries it must download."""
    have: dict[str, bytes] = {}
    cache = cache_folder(kiosk)
    wanted = {entry["sha256"] for entry in manifest["objects"]}
    if kiosk.current() is not None:
        conn = bundle.connect(kiosk.live)
        try:
            have.update((p.hash, p.raw) for p in pieces(conn) if p.hash in wanted)
        finally:
            conn.close()
    missing: dict[str, dict[str, Any]] = {}  # by hash: two pieces with the same content are fetched once
    for entry in manifest["objects"]:
        digest = entry["sha256"]
        if digest in have or digest in missing:
            continue
        cached = object_path(cache, digest)
        raw = _unpack(cached.read_bytes(), entry["raw_size"]) if cached.exists() else None
        if raw is not None and hashlib.sha256(raw).hexdigest() == digest:
            have[digest] = raw
        else:
            cached.unlink(missing_ok=True)  # torn by a power cut, or damaged: fetch again
            missing[digest] = entry
    return have, list(missing.values())


def sync(
    kiosk: Kiosk,
    where: str,
    today: date,
    *,
    allow_downgrade: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    on_plan: Callable[[int, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BundleInfo | None:
    """Bring the kiosk up to the hub's published bundle; return None when it is up to date.

    on_plan(objects, bytes) is told what will be downloaded; progress(bytes)
    is called as bytes arrive. The outcome is recorded for the status page.
    """
    try:
        with _one_sync(kiosk):
            hub = Hub(where, deadline)
            try:
                info, confirmed = _sync(kiosk, hub, today, allow_downgrade, on_plan, progress)
            finally:
                hub.close()
    except SyncError as exc:
        kiosk_state.record(kiosk.live, "sync", False, str(exc))
        raise
    done = "up to date" if info is None else f"installed version {info.version}"
    # The hub's signed timestamp vouched for what is live today: the guidance is confirmed.
    kiosk_state.record(kiosk.live, "sync", True, done, confirmed_on=confirmed)
    return info


def _sync(
    kiosk: Kiosk,
    hub: Hub,
    today: date,
    allow_downgrade: bool,
    on_plan: Callable[[int, int], None] | None,
    progress: Callable[[int], None] | None,
) -> tuple[BundleInfo | None, date]:
    """Return what was installed (None: up to date) and the day the hub's timestamp vouched for it."""
    try:
        root = _follow_roots(kiosk, hub)
        stamp = read_timestamp(hub.fetch(TIMESTAMP, MAX_TIMESTAMP) or b"", root, today)
        data = hub.fetch(MANIFEST, MAX_MANIFEST_BYTES) or b""
        if hashlib.sha256(data).hexdigest() != stamp["manifest_sha256"]:
            raise SyncError(
                "the hub's manifest is not the one its signed timestamp names: it may be an old "
                "manifest served again (a frozen or tampered hub); nothing was changed"
            )
        manifest = read_manifest(data, root, today)
        crash_point("sync-manifest")
        seal = manifest["bundle"]
        wanted = BundleInfo(
            Path(MANIFEST),
            seal["content_digest"],
            seal["built_at"],
            True,
            seal["bundle_version"],
            seal["expires"],
            seal["key_id"],
            seal["publisher"],
        )
        if not check_newer(kiosk.current(), wanted, "the hub's bundle", allow_downgrade):
            return None, stamp["signed_at"]
        _check_seal(kiosk, seal, today)
        return _download_and_install(kiosk, hub, manifest, allow_downgrade, on_plan, progress), stamp["signed_at"]
    except (PublishError, VerifyError, ImportRefused) as exc:
        raise SyncError(f"{exc}{kiosk_hint(exc)}") from None
    except sqlite3.OperationalError as exc:
        raise SyncError(f"cannot write the assembled bundle ({printable(exc)}); is the disk full?") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise SyncError("the disk is full; free some space and run the sync again") from None
        raise SyncError(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}") from None


def _check_seal(kiosk: Kiosk, seal: dict[str, Any], today: date) -> None:
    if seal["expires"] < today:
        raise SyncError(f"the hub's bundle expired on {seal['expires']}; the publisher must publish a new one")
    if seal["schema_version"] != bundle.SCHEMA_VERSION:
        raise SyncError(str(schema_refusal("the hub's bundle", seal["schema_version"])))


def _download_and_install(
    kiosk: Kiosk,
    hub: Hub,
    manifest: dict[str, Any],
    allow_downgrade: bool,
    on_plan: Callable[[int, int], None] | None,
    progress: Callable[[int], None] | None,
) -> BundleInfo | None:
    total = sum(entry["size"] for entry in manifest["objects"])
    if total > kiosk.max_bytes:
        raise SyncError(f"the hub's bundle is over this kiosk's limit of {kiosk.max_bytes // (1024 * 1024)} MB")
    have, missing = plan(kiosk, manifest)
    if on_plan:
        on_plan(len(missing), sum(entry["size"] for entry in missing))
    cache = cache_folder(kiosk)
    for entry in missing:
        data = hub.fetch(object_path(Path("."), entry["sha256"]).as_posix(), entry["size"], progress) or b""
        raw = _unpack(data, entry["raw_size"])
        if raw is None or hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise SyncError(
                f"the hub's copy of {printable(entry['name'])} is damaged (its hash does not match); try again later"
            )
        fsutil.atomic_write(object_path(cache, entry["sha256"]), data)
        have[entry["sha256"]] = raw
        crash_point("sync-object")
    work = kiosk.live.parent / "sync-work"
    with locked(kiosk):
        shutil.rmtree(work, ignore_errors=True)
        assembled = work / "assembled.bundle"
        try:
            digest = assemble(manifest, have, assembled)
            if digest != manifest["bundle"]["content_digest"]:
                raise SyncError("the assembled bundle does not match the digest the publisher signed")
            crash_point("sync-assembled")
            info = install_assembled(
                kiosk, assembled, manifest["bundle"], name="the hub's bundle", allow_downgrade=allow_downgrade
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    # Installed: everything the cache held is now in the live bundle.
    shutil.rmtree(cache, ignore_errors=True)
    return info


def _follow_roots(kiosk: Kiosk, hub: Hub) -> Root:
    """Accept each next root the hub offers (roots/N+1.json...), then stop serving what they no longer trust."""
    root = kiosk.root()
    if root is None:
        raise SyncError(
            "this kiosk trusts no publisher yet: get the publisher's root.json and run `waypost keys trust root.json`"
        )
    changed = False
    for _ in range(MAX_ROOT_STEPS):
        data = hub.fetch(f"roots/{root.version + 1}.json", MAX_ROOT_BYTES, missing_ok=True)
        if data is None:
            break
        trust_root(kiosk, data, name=f"the hub's roots/{root.version + 1}.json")
        root = kiosk.root()
        assert root is not None
        changed = True
    if changed:
        enforce_trust(kiosk)
    return root


@contextmanager
def _one_sync(kiosk: Kiosk) -> Iterator[None]:
    """Let one sync run at a time: a second one (cron, a USB stick) stops at once instead of piling up."""
    kiosk.live.parent.mkdir(parents=True, exist_ok=True)
    with kiosk.live.with_name(kiosk.live.name + ".sync-lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError(
                "another sync is running on this kiosk; this one stopped without changing anything"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def cache_folder(kiosk: Kiosk) -> Path:
    """Return the folder where downloaded objects wait until a sync completes."""
    return kiosk.live.parent / "sync-cache"


def _unpack(data: bytes, raw_size: int) -> bytes | None:
    """Decompress an object, or return None unless it is exactly its stated size."""
    raw = unpack(data, raw_size)
    return raw if raw is not None and len(raw) == raw_size else None


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was refused"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return type(exc).__name__
