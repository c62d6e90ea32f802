"""Seal a bundle with a publisher's signature, and decide whether to trust one.

The signature covers the content digest, the bundle version, the expiry date,
the build time and the key id, as one canonical JSON payload. Verifying a
bundle recomputes the digest from its rows, so any changed row is caught
whatever the file's bytes look like.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from . import bundle, signing

SQLITE_MAGIC = b"SQLite format 3\x00"
# Metadata a signed bundle carries beside content_digest and built_at.
SEAL_KEYS = ("bundle_version", "expires", "key_id", "signature")


class VerifyError(Exception):
    """A bundle that must not be trusted. `kind` names the reason for tests and scripts."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


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
    publisher: str = ""

    def expired(self, today: date) -> bool:
        """Return whether the bundle's expiry date has passed."""
        return self.expires is not None and self.expires < today

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


def signed_payload(meta: dict[str, str]) -> dict[str, Any]:
    """Return the payload a bundle's signature covers, from its metadata."""
    return {
        "schema_version": meta.get("schema_version"),
        "content_digest": meta.get("content_digest"),
        "built_at": meta.get("built_at"),
        "bundle_version": meta.get("bundle_version"),
        "expires": meta.get("expires"),
        "key_id": meta.get("key_id"),
    }


def sealer(secret: SigningKey, key_id: str, version: int, expires: date):
    """Return a `seal` for write_bundle that signs the digest with this key."""

    def seal(digest: str, built_at: str) -> dict[str, str]:
        meta = {
            "schema_version": str(bundle.SCHEMA_VERSION),
            "content_digest": digest,
            "built_at": built_at,
            "bundle_version": str(version),
            "expires": expires.isoformat(),
            "key_id": key_id,
        }
        signature = signing.sign(secret, signing.BUNDLE_CONTEXT, signing.canonical(signed_payload(meta)))
        return {k: meta[k] for k in ("bundle_version", "expires", "key_id")} | {
            "signature": signing.encode_signature(signature)
        }

    return seal


def describe(path: Path) -> BundleInfo:
    """Read what a bundle says about itself, without checking it (for status pages)."""
    conn = bundle.connect(path)
    try:
        return _info(Path(path), bundle.meta(conn), {})
    finally:
        conn.close()


def verify_bundle(
    path: Path, trusted: dict[str, signing.PublicKey], today: date, *, require_signature: bool = True
) -> BundleInfo:
    """Check a bundle file completely and return what it is, or raise VerifyError saying why not.

    The checks run from the cheapest to the dearest: file type and length,
    SQLite's own integrity check and the search index, then the signature, the
    recomputed digest and the expiry date. Without `require_signature` an
    unsigned bundle (the demo one `waypost serve` builds) passes when its
    rows match its digest.
    """
    path = Path(path)
    _check_file(path)
    try:
        conn = bundle.connect(path)
    except bundle.BundleError as exc:
        reason = str(exc)
        kind = "schema" if "schema version" in reason else "corrupt" if "readable" in reason else "not-waypost"
        raise VerifyError(kind, _damaged(path, exc) if kind == "corrupt" else reason) from None
    try:
        _check_structure(path, conn)
        meta = bundle.meta(conn)
        if "signature" in meta or require_signature:
            info = _check_signature(path, meta, trusted)
        else:
            info = _info(path, meta, trusted)
        try:
            digest = bundle.content_digest(conn)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise VerifyError("corrupt", _damaged(path, exc)) from None
    finally:
        conn.close()
    if digest != info.content_digest:
        raise VerifyError("digest-mismatch", f"{path} was altered after it was made: its rows do not match its digest")
    if info.expired(today):
        raise VerifyError("expired", f"{path} expired on {info.expires}; ask the publisher for a newer bundle")
    return info


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise VerifyError("missing", f"no bundle file at {path}")
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise VerifyError("not-sqlite", f"{path} is not a SQLite file")
    if len(header) < 100:
        raise VerifyError("truncated", f"{path} is truncated: {size} bytes")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages * page_size > size:
        raise VerifyError("truncated", f"{path} is truncated: {size} of {pages * page_size} bytes")


def _check_structure(path: Path, conn: sqlite3.Connection) -> None:
    try:
        # integrity_check, not quick_check: it also proves each index agrees with
        # its table, and queries (the digest's among them) may read either.
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise VerifyError("corrupt", _damaged(path, Exception(result[0])))
        # The search index is not part of the digest (its bytes are SQLite's
        # business), so check it matches the rows it indexes. The check
        # writes, so it runs on a copy in memory, never on the file.
        copy = sqlite3.connect(":memory:")
        try:
            conn.backup(copy)
            copy.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)")
        finally:
            copy.close()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise VerifyError("corrupt", _damaged(path, exc)) from None


def _damaged(path: Path, exc: Exception) -> str:
    """Return one short, printable line for a damaged file (SQLite may quote the garbage it found)."""
    reason = str(exc)
    if reason.startswith("Could not decode to UTF-8"):
        reason = "a text value is not valid UTF-8"
    reason = "".join(c if c.isprintable() else "?" for c in reason)[:100]
    return f"{path} is damaged: {reason}"


def _check_signature(path: Path, meta: dict[str, str], trusted: dict[str, signing.PublicKey]) -> BundleInfo:
    if "signature" not in meta:
        raise VerifyError("unsigned", f"{path} is not signed; only signed bundles can be installed")
    key = trusted.get(meta.get("key_id", ""))
    if key is None:
        if not trusted:
            raise VerifyError("unknown-key", "no trusted publisher keys are set up; add one with `waypost keys trust`")
        raise VerifyError("unknown-key", f"{path} is signed by key {meta.get('key_id')}, not one this kiosk trusts")
    signature = signing.decode_signature(meta["signature"])
    payload = signing.canonical(signed_payload(meta))
    if signature is None or not key.verify(signing.BUNDLE_CONTEXT, payload, signature):
        raise VerifyError("bad-signature", f"{path} has a signature that does not match its contents")
    return _info(path, meta, trusted)


def _info(path: Path, meta: dict[str, str], trusted: dict[str, signing.PublicKey]) -> BundleInfo:
    signed = "signature" in meta
    key = trusted.get(meta.get("key_id", ""))
    try:
        version = int(meta.get("bundle_version", "0"))
        expires = date.fromisoformat(meta["expires"]) if signed else None
    except (KeyError, ValueError):
        raise VerifyError("bad-signature", f"{path} has unreadable signature metadata") from None
    return BundleInfo(
        path=path,
        content_digest=meta.get("content_digest", ""),
        built_at=meta.get("built_at", ""),
        signed=signed,
        version=version,
        expires=expires,
        key_id=meta.get("key_id", ""),
        publisher=key.name if key else "",
    )
