"""Decide whether to trust a bundle: the signed envelope first, then the SQLite file, defensively.

Order matters. A signed bundle's header is checked against the trust root
and its SQLite bytes are hashed while they are copied into a private file
before SQLite opens anything (see envelope.py). Only then is the copy opened,
read-only, with `trusted_schema` off; its schema must be exactly Waypost's
(no view, no trigger, nothing extra) before any query touches a row; then
SQLite's integrity check, the search index's own check and the content digest
run under a bound on work, so even a hostile file signed by a trusted key can
neither hang nor exhaust a kiosk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from app import fsutil
from app.bundle import read as bundle
from app.bundle.schema import FTS_TABLES, content_digest, schema_refusal, structure_problem
from app.distribution import envelope
from app.distribution.root import Root
from app.refusal import Refusal, VerifyError, printable

__all__ = ["BundleInfo", "Refusal", "VerifyError", "check_sqlite", "describe", "verify_bundle"]

SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite calls the progress handler every this many virtual machine steps.
PROGRESS_STEPS = 10_000
# Steps allowed per byte of file for the whole check: a real bundle needs a
# few (integrity check, search check, digest); a crafted one that loops or
# builds gigabytes from nothing is stopped long before it hurts.
STEPS_PER_BYTE = 400
MIN_STEPS = 50_000_000


@dataclass(frozen=True)
class BundleInfo:
    """What a bundle says about itself; `signed` is false for an unsigned (demo) bundle."""

    path: Path
    content_digest: str
    built_at: str
    signed: bool
    version: int = 0
    expires: date | None = None
    key_id: str = ""
    publisher: str = ""  # the publisher id the signature is scoped to
    languages: tuple[str, ...] = field(default=())

    def expired(self, today: date) -> bool:
        """Return whether the bundle's expiry date has passed."""
        return self.expires is not None and self.expires < today

    @property
    def built_on(self) -> date | None:
        """Return the day the bundle was built (its own signed date), if it says."""
        try:
            return date.fromisoformat(self.built_at[:10])
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        """Return the facts shown by `waypost bundle status` and the status endpoint."""
        return {
            "version": self.version,
            "content_digest": self.content_digest,
            "built_at": self.built_at,
            "signed": self.signed,
            "expires": self.expires.isoformat() if self.expires else None,
            "key_id": self.key_id or None,
            "publisher": self.publisher or None,
        }


def describe(path: Path) -> BundleInfo:
    """Read what a bundle file says about itself, without checking it (for status lines)."""
    path = Path(path)
    if envelope.is_envelope(path):
        with fsutil.open_regular(path) as f:
            return _from_header(path, envelope.read_header(f, str(path)))
    conn = bundle.connect(path)
    try:
        return _from_meta(path, bundle.meta(conn))
    finally:
        conn.close()


def verify_bundle(path: Path, root: Root | None, today: date, work: Path, *, name: str | None = None) -> BundleInfo:
    """Check a signed bundle file completely, leaving its verified SQLite copy at `work`.

    Raises VerifyError saying why it must not be trusted; `name` is how the
    file is named in messages (the operator's path, not a temporary copy).
    """
    path, name = Path(path), name or str(path)
    try:
        f = fsutil.open_regular(path)
    except FileNotFoundError:
        raise VerifyError(Refusal.MISSING, f"no bundle file at {name}") from None
    except OSError as exc:
        raise VerifyError(Refusal.NOT_A_FILE, f"{name} cannot be read as a bundle: {exc.strerror}") from None
    with f:
        header = envelope.read_header(f, name)
        if root is None:
            raise VerifyError(
                Refusal.NO_ROOT,
                "this kiosk trusts no publisher yet: get the publisher's root.json "
                "and run `waypost keys trust root.json`",
            )
        envelope.check_header(header, root, today, name)
        work.unlink(missing_ok=True)
        envelope.extract(f, header, work, name)
    return replace(check_sqlite(work, header.fields, name=name), path=path)


def check_sqlite(path: Path, expected: dict[str, Any] | None = None, *, name: str | None = None) -> BundleInfo:
    """Check a SQLite bundle our own code wrote or extracted; return what it is.

    With `expected` (a signed header or manifest seal), its rows must carry
    that content digest and its metadata those signed facts; without, its
    rows must match its own digest (a kept or demo bundle).
    """
    path, name = Path(path), name or str(path)
    _check_file(path, name)
    with _bounded(path, name) as conn:
        problem = structure_problem(conn)
        if problem:
            raise VerifyError(Refusal.FOREIGN_SCHEMA, f"{name} is not a bundle Waypost made: {problem}")
        meta = bundle.meta(conn)
        version = meta.get("schema_version")
        if version != str(bundle.SCHEMA_VERSION):
            raise schema_refusal(name, version)
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise VerifyError(Refusal.CORRUPT, _damaged(name, result[0]))
        _check_search_index(conn)
        digest = content_digest(conn)
        info = _from_meta(path, meta)
        languages = tuple(row[0] for row in conn.execute("SELECT code FROM languages ORDER BY position"))
    want = expected["content_digest"] if expected else info.content_digest
    if digest != want or digest != info.content_digest:
        raise VerifyError(
            Refusal.DIGEST_MISMATCH,
            f"{name} was altered after it was made: its rows do not match the digest it was signed with",
        )
    if expected is not None:
        _check_seal(info, languages, expected, name)
    return replace(info, languages=languages)


def _check_seal(info: BundleInfo, languages: tuple[str, ...], expected: dict[str, Any], name: str) -> None:
    """Refuse a file whose own metadata disagrees with what was signed about it."""
    signed = {
        "version": int(expected["bundle_version"]),
        "expires": _date(expected["expires"]),
        "key_id": expected["key_id"],
        "publisher": expected["publisher"],
        "built_at": expected["built_at"],
    }
    found = {
        "version": info.version,
        "expires": info.expires,
        "key_id": info.key_id,
        "publisher": info.publisher,
        "built_at": info.built_at,
    }
    if found != signed or ("languages" in expected and tuple(expected["languages"]) != languages):
        raise VerifyError(Refusal.DIGEST_MISMATCH, f"{name} says other things about itself than were signed")


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@contextmanager
def _bounded(path: Path, name: str) -> Iterator[sqlite3.Connection]:
    """Open a bundle read-only and hardened, with a bound on the work any query may do."""
    budget = max(MIN_STEPS, path.stat().st_size * STEPS_PER_BYTE) // PROGRESS_STEPS
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 1 if steps[0] > budget else 0  # non-zero makes SQLite stop the query

    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise VerifyError(Refusal.CORRUPT, _damaged(name, exc)) from None
    try:
        bundle.harden(conn)
        conn.set_progress_handler(tick, PROGRESS_STEPS)
        if conn.execute("PRAGMA application_id").fetchone()[0] != bundle.APPLICATION_ID:
            raise VerifyError(Refusal.NOT_WAYPOST, f"{name} is not a Waypost bundle")
        yield conn
    except sqlite3.OperationalError as exc:
        if steps[0] > budget:
            raise VerifyError(Refusal.TOO_MUCH_WORK, f"{name} makes SQLite work without end: refused") from None
        raise VerifyError(Refusal.CORRUPT, _damaged(name, exc)) from None
    except (sqlite3.DatabaseError, UnicodeDecodeError, MemoryError) as exc:
        raise VerifyError(Refusal.CORRUPT, _damaged(name, exc)) from None
    finally:
        conn.close()


def _check_search_index(conn: sqlite3.Connection) -> None:
    """Check the search index matches the rows it indexes; the check writes, so it runs on a copy in memory."""
    copy = sqlite3.connect(":memory:")
    try:
        conn.backup(copy)
        for table in FTS_TABLES:
            copy.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
        copy.execute("INSERT INTO service_index (service_index, rank) VALUES ('integrity-check', 1)")
    finally:
        copy.close()


def _check_file(path: Path, name: str) -> None:
    try:
        with fsutil.open_regular(path) as f:
            size = f.seek(0, 2)
            f.seek(0)
            header = f.read(100)
    except FileNotFoundError:
        raise VerifyError(Refusal.MISSING, f"no bundle file at {name}") from None
    except OSError as exc:
        raise VerifyError(Refusal.NOT_A_FILE, f"{name} cannot be read as a bundle: {exc.strerror}") from None
    if not header.startswith(SQLITE_MAGIC):
        raise VerifyError(Refusal.NOT_SQLITE, f"{name} is not a SQLite file")
    if len(header) < 100:
        raise VerifyError(Refusal.TRUNCATED, f"{name} is truncated: {size} bytes")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages * page_size > size:
        raise VerifyError(Refusal.TRUNCATED, f"{name} is truncated: {size} of {pages * page_size} bytes")


def _damaged(name: str, reason: object) -> str:
    """Return one short, printable line for a damaged file (SQLite may quote the garbage it found)."""
    text = str(reason)
    if text.startswith("Could not decode to UTF-8"):
        text = "a text value is not valid UTF-8"
    return f"{name} is damaged: {printable(text, 100)}"


def _from_header(path: Path, header: envelope.Header) -> BundleInfo:
    h = header.fields
    return BundleInfo(
        path,
        h["content_digest"],
        h["built_at"],
        True,
        h["bundle_version"],
        h["expires"],
        h["key_id"],
        h["publisher"],
        tuple(h["languages"]),
    )


def _from_meta(path: Path, meta: dict[str, str]) -> BundleInfo:
    signed = "key_id" in meta
    try:
        version = int(meta.get("bundle_version", "0"))
        expires = date.fromisoformat(meta["expires"]) if signed else None
    except (KeyError, ValueError):
        raise VerifyError(Refusal.CORRUPT, f"{path} has unreadable signing metadata") from None
    return BundleInfo(
        path=path,
        content_digest=meta.get("content_digest", ""),
        built_at=meta.get("built_at", ""),
        signed=signed,
        version=version,
        expires=expires,
        key_id=meta.get("key_id", ""),
        publisher=meta.get("publisher", ""),
    )
