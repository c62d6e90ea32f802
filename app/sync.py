"""Update a kiosk from a published folder over HTTP(S), or from a folder or USB stick.

Only the objects the kiosk lacks are downloaded: those it fetched in an
earlier, interrupted sync are kept in its cache, and those already in its live
bundle are taken from there. Every object's hash is checked as it arrives;
the bundle assembled from them must carry the digest the publisher signed,
and it is installed through the same verified, atomic import as a file.
Whatever fails, the live bundle is left as it was.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__, bundle
from .kiosk import ImportRefused, Kiosk, crash_point, import_bundle
from .publish import MANIFEST, PublishError, assemble, object_path, pieces, read_manifest, unpack
from .trust import BundleInfo, VerifyError

# Seconds to wait for a connection, and for each read. Bounded, so a dead
# link fails with a message instead of hanging a kiosk's update for ever.
TIMEOUT = (10, 30)
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
# Failed requests are retried 4 times, after 0.5, 1, 2 and 4 seconds.
RETRIES = 4
BACKOFF_FACTOR = 0.5
CHUNK = 64 * 1024


class SyncError(Exception):
    """A sync that stopped; the message is the one clear reason shown to the NGO."""


class Hub:
    """Where published files come from: a web address or a folder."""

    def __init__(self, where: str) -> None:
        self.where = where
        split = urlsplit(where)
        self.http = split.scheme in ("http", "https")
        if self.http:
            self.base = where if where.endswith("/") else where + "/"
            self.session = requests.Session()
            retry = Retry(total=RETRIES, backoff_factor=BACKOFF_FACTOR, status_forcelist=(429, 500, 502, 503, 504),
                          allowed_methods=frozenset({"GET"}), raise_on_status=False)  # fmt: skip
            self.session.mount("http://", HTTPAdapter(max_retries=retry))
            self.session.mount("https://", HTTPAdapter(max_retries=retry))
            # Ask for the bytes as published: objects are compressed already.
            self.session.headers.update({"Accept-Encoding": "identity", "User-Agent": f"Waypost/{__version__}"})
        else:
            self.folder = Path(split.path if split.scheme == "file" else where)
            if not self.folder.is_dir():
                raise SyncError(f"{where} is neither a web address nor a folder")

    def fetch(self, name: str, limit: int, progress: Callable[[int], None] | None = None) -> bytes:
        """Return one published file, refusing one longer than limit bytes."""
        if not self.http:
            path = self.folder / name
            try:
                with path.open("rb") as f:
                    data = f.read(limit + 1)
            except FileNotFoundError:
                raise SyncError(f"{path} is missing from the published folder") from None
            except OSError as exc:
                raise SyncError(f"cannot read {path}: {exc.strerror}") from None
            return self._limited(name, data, limit, progress)
        url = urljoin(self.base, name)
        try:
            with self.session.get(url, timeout=TIMEOUT, stream=True) as response:
                if response.status_code != 200:
                    raise SyncError(f"{url} answered HTTP {response.status_code}")
                received = bytearray()
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    received += chunk
                    if progress:
                        progress(len(chunk))
                    if len(received) > limit:
                        break
        except requests.RequestException as exc:
            raise SyncError(f"cannot reach {urlsplit(url).netloc}: {_reason(exc)}") from None
        return self._limited(name, bytes(received), limit, None)

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


def plan(kiosk: Kiosk, manifest: dict[str, Any]) -> tuple[dict[str, bytes], list[list]]:
    """Return the objects the kiosk has (JSON by hash) and the manifest rows it must download."""
    have: dict[str, bytes] = {}
    cache = cache_folder(kiosk)
    wanted = {row[1] for row in manifest["objects"]}
    if kiosk.current() is not None:
        conn = bundle.connect(kiosk.live)
        try:
            have.update((p.hash, p.raw) for p in pieces(conn) if p.hash in wanted)
        finally:
            conn.close()
    missing: dict[str, list] = {}  # by hash: two pieces with the same content are fetched once
    for row in manifest["objects"]:
        digest = row[1]
        if digest in have or digest in missing:
            continue
        cached = object_path(cache, digest)
        raw = _unpack(cached.read_bytes(), row[3]) if cached.exists() else None
        if raw is not None and hashlib.sha256(raw).hexdigest() == digest:
            have[digest] = raw
        else:
            cached.unlink(missing_ok=True)  # torn by a power cut, or damaged: fetch again
            missing[digest] = row
    return have, list(missing.values())


def sync(
    kiosk: Kiosk,
    where: str,
    today: date,
    *,
    allow_downgrade: bool = False,
    on_plan: Callable[[int, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BundleInfo | None:
    """Bring the kiosk up to the hub's published bundle; return None when it is up to date.

    on_plan(objects, bytes) is told what will be downloaded; progress(bytes)
    is called as bytes arrive.
    """
    hub = Hub(where)
    try:
        return _sync(kiosk, hub, today, allow_downgrade, on_plan, progress)
    except (PublishError, VerifyError, ImportRefused) as exc:
        raise SyncError(str(exc)) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise SyncError("the disk is full; free some space and run the sync again") from None
        raise SyncError(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}") from None
    finally:
        hub.close()


def _sync(kiosk, hub, today, allow_downgrade, on_plan, progress) -> BundleInfo | None:
    manifest = read_manifest(hub.fetch(MANIFEST, MAX_MANIFEST_BYTES), kiosk.trusted())
    seal = manifest["bundle"]
    version = int(seal["bundle_version"])
    current = kiosk.current()
    crash_point("sync-manifest")
    if current and current.content_digest == seal["content_digest"] and current.version == version:
        return None
    if current and current.signed and version <= current.version and not allow_downgrade:
        raise SyncError(f"the hub has version {version}, not newer than this kiosk's {current.version}")
    if seal["expires"] < today:
        raise SyncError(f"the hub's bundle expired on {seal['expires']}; the publisher must publish a new one")
    if seal["schema_version"] != str(bundle.SCHEMA_VERSION):
        raise SyncError(f"the hub's bundle has schema version {seal['schema_version']}; update Waypost to read it")
    total = sum(row[2] for row in manifest["objects"])
    if total > kiosk.max_bytes:
        raise SyncError(f"the hub's bundle is over this kiosk's limit of {kiosk.max_bytes // (1024 * 1024)} MB")

    have, missing = plan(kiosk, manifest)
    if on_plan:
        on_plan(len(missing), sum(row[2] for row in missing))
    cache = cache_folder(kiosk)
    for name, digest, size, raw_size, _row_id in missing:
        data = hub.fetch(object_path(Path("."), digest).as_posix(), size, progress)
        raw = _unpack(data, raw_size)
        if raw is None or hashlib.sha256(raw).hexdigest() != digest:
            raise SyncError(f"the hub's copy of {name} is damaged (its hash does not match); try again later")
        _store(object_path(cache, digest), data)
        have[digest] = raw
        crash_point("sync-object")

    work = kiosk.live.parent / "sync-work"
    shutil.rmtree(work, ignore_errors=True)
    assembled = work / "assembled.bundle"
    try:
        digest = assemble(manifest, have, assembled)
        if digest != seal["content_digest"]:
            raise SyncError("the assembled bundle does not match the digest the publisher signed")
        crash_point("sync-assembled")
        info = import_bundle(kiosk, assembled, today, allow_downgrade=allow_downgrade)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Installed: everything the cache held is now in the live bundle.
    shutil.rmtree(cache, ignore_errors=True)
    return info


def cache_folder(kiosk: Kiosk) -> Path:
    """Return the folder where downloaded objects wait until a sync completes."""
    return kiosk.live.parent / "sync-cache"


def _unpack(data: bytes, raw_size: int) -> bytes | None:
    """Decompress an object, or return None unless it is exactly its stated size."""
    raw = unpack(data, raw_size)
    return raw if raw is not None and len(raw) == raw_size else None


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was refused"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return type(exc).__name__
