"""The signed bundle file an NGO copies: a small signed header, then the SQLite bytes it names.

A signature stored inside a SQLite file cannot cover that file's own hash,
and SQLite must never read a file before it is trusted. So a signed bundle is
an *envelope*, one file:

    WAYPOST SIGNED BUNDLE 1\\n
    {header JSON, canonical, one line}\\n
    {Ed25519 signature of the header, base64}\\n
    {the SQLite database, exactly header.sqlite_length bytes}

The header names the SHA-256 and length of the SQLite bytes, the content
digest of their rows, the version, expiry, key id, publisher id and
languages. A kiosk reads at most a few kilobytes of header, checks the
signature against its trust root, then copies the SQLite bytes into its own
private file while hashing them, and opens that copy only if the hash is the
signed one (as APT checks a package against its signed Release file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from marshmallow import Schema, ValidationError, fields, validate
from nacl.signing import SigningKey

from app import fsutil
from app.bundle.schema import SCHEMA_VERSION, canonical, schema_refusal, structure_problem
from app.distribution import signing
from app.distribution.root import Root
from app.refusal import Refusal, VerifyError, printable

MAGIC = b"WAYPOST SIGNED BUNDLE 1\n"
ENVELOPE_FORMAT = "waypost-signed-bundle-1"
ENVELOPE_CONTEXT = b"waypost-envelope-v1\n"
MAX_HEADER = 16 * 1024
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$")
# At most 18 digits: the largest version every JSON reader and SQLite integer holds exactly.
MAX_VERSION = 10**18 - 1


def version_field() -> fields.Integer:
    """A bundle version: a positive integer of at most 18 digits (shared by every signed file)."""
    return fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_VERSION))


def key_id_field() -> fields.String:
    return fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{16}$"))


def publisher_field() -> fields.String:
    return fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$"))


def languages_field() -> fields.List:
    return fields.List(fields.String(validate=validate.Length(1, 35)), required=True, validate=validate.Length(1, 500))


class HeaderSchema(Schema):
    """The signed header: the only definition of its fields."""

    format = fields.String(required=True, validate=validate.Equal(ENVELOPE_FORMAT))
    schema_version = fields.Integer(required=True, strict=True)
    content_digest = fields.String(required=True, validate=SHA256)
    sqlite_sha256 = fields.String(required=True, validate=SHA256)
    sqlite_length = fields.Integer(required=True, strict=True, validate=validate.Range(min=512))
    bundle_version = version_field()
    built_at = fields.String(required=True, validate=validate.Length(max=40))
    expires = fields.Date(required=True)
    key_id = key_id_field()
    publisher = publisher_field()
    languages = languages_field()


@dataclass(frozen=True)
class Header:
    """A signed header as read from an envelope (not yet checked against a root)."""

    fields: dict[str, Any]
    raw: bytes
    signature: bytes
    offset: int  # where the SQLite bytes start

    @property
    def version(self) -> int:
        return self.fields["bundle_version"]

    @property
    def expires(self) -> date:
        return self.fields["expires"]


def next_version(now: datetime, previous: Path | None = None) -> int:
    """Return the version to sign now: the time to the second, and always above the signed bundle at `previous`.

    Two builds in the same second into the same file still get two versions,
    so a quick fix is never refused as "not newer" (at most 18 digits).
    """
    version = int(now.strftime("%Y%m%d%H%M%S"))
    if previous is not None and is_envelope(previous):
        try:
            with fsutil.open_regular(previous) as f:
                version = max(version, read_header(f, str(previous)).version + 1)
        except (OSError, VerifyError):
            pass  # an unreadable old file names no version to stay above
    return min(version, MAX_VERSION)


def is_envelope(path: Path) -> bool:
    """Return whether a file starts like a signed bundle (without checking anything else)."""
    try:
        with fsutil.open_regular(path) as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def write_envelope(sqlite_path: Path, out: Path, secret: SigningKey, key_id: str) -> Header:
    """Wrap a SQLite bundle the builder wrote in a signed envelope at out, atomically.

    The header's facts (version, expiry, publisher, digest) come from the
    bundle's own metadata, so the two can never disagree.
    """
    conn = sqlite3.connect(Path(sqlite_path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        # Sign only a file with exactly Waypost's tables: reading a foreign one could run its views.
        problem = structure_problem(conn)
        if problem:
            raise ValueError(f"{sqlite_path} is not a bundle Waypost made: {problem}")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        languages = [row[0] for row in conn.execute("SELECT code FROM languages ORDER BY position")]
    finally:
        conn.close()
    digest = hashlib.sha256()
    with open(sqlite_path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    header = {
        "format": ENVELOPE_FORMAT,
        "schema_version": int(meta["schema_version"]),
        "content_digest": meta["content_digest"],
        "sqlite_sha256": digest.hexdigest(),
        "sqlite_length": Path(sqlite_path).stat().st_size,
        "bundle_version": int(meta["bundle_version"]),
        "built_at": meta["built_at"],
        "expires": meta["expires"],
        "key_id": key_id,
        "publisher": meta["publisher"],
        "languages": languages,
    }
    raw = canonical(header)
    signature = signing.sign(secret, ENVELOPE_CONTEXT, raw)
    preamble = MAGIC + raw + b"\n" + base64.b64encode(signature) + b"\n"
    with fsutil.atomic_file(out) as dst, open(sqlite_path, "rb") as src:
        dst.write(preamble)
        for block in iter(lambda: src.read(1024 * 1024), b""):
            dst.write(block)
    return Header(HeaderSchema().load(header), raw, signature, len(preamble))


def read_header(f: BinaryIO, name: str) -> Header:
    """Read and parse an envelope's header from an open file, reading at most MAX_HEADER bytes."""
    start = f.read(len(MAGIC))
    if start != MAGIC:
        if start.startswith(b"SQLite format 3"):
            raise VerifyError(
                Refusal.UNSIGNED,
                f"{name} is not signed; only signed bundles can be installed (build it with `waypost build --sign`)",
            )
        raise VerifyError(Refusal.NOT_SIGNED_FILE, f"{name} is not a Waypost bundle file")
    raw = f.readline(MAX_HEADER)
    encoded = f.readline(200)
    if not raw.endswith(b"\n") or not encoded.endswith(b"\n"):
        raise VerifyError(Refusal.BAD_HEADER, f"{name} has a damaged or truncated header")
    try:
        parsed = json.loads(raw)
        loaded = HeaderSchema().load(parsed)
        signature = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, ValidationError, RecursionError, TypeError, binascii.Error) as exc:
        detail = printable(exc.messages if isinstance(exc, ValidationError) else "not JSON", 120)
        raise VerifyError(Refusal.BAD_HEADER, f"{name} has a header Waypost cannot read ({detail})") from None
    if len(signature) != 64 or canonical(parsed) != raw.rstrip(b"\n"):
        raise VerifyError(Refusal.BAD_HEADER, f"{name} has a header that is not in its signed form")
    return Header(loaded, raw.rstrip(b"\n"), signature, len(MAGIC) + len(raw) + len(encoded))


def check_header(header: Header, root: Root, today: date, name: str) -> signing.PublicKey:
    """Check the header's signature, signer, scope, format and expiry; return the signer's key."""
    fields_ = header.fields
    try:
        key = root.signer(
            fields_["key_id"], "bundle", today, publisher=fields_["publisher"], languages=tuple(fields_["languages"])
        )
    except VerifyError as exc:
        raise VerifyError(exc.kind, f"{name} is refused: {exc}") from None
    if not key.verify(ENVELOPE_CONTEXT, header.raw, header.signature):
        raise VerifyError(Refusal.BAD_SIGNATURE, f"{name} has a signature that does not match it: it was altered")
    if fields_["schema_version"] != SCHEMA_VERSION:
        raise schema_refusal(name, fields_["schema_version"])
    if header.expires < today:
        raise VerifyError(Refusal.EXPIRED, f"{name} expired on {header.expires}; ask the publisher for a newer bundle")
    return key


def extract(f: BinaryIO, header: Header, target: Path, name: str) -> None:
    """Copy the SQLite bytes after the header into target, refusing them unless they are the signed ones."""
    digest = hashlib.sha256()
    want = header.fields["sqlite_length"]
    copied = fsutil.copy_synced(f, target, want + 1, on_chunk=digest.update)
    if copied != want:
        kind = Refusal.TRUNCATED if copied < want else Refusal.HASH_MISMATCH
        raise VerifyError(kind, f"{name} holds {copied} bytes of guidance where its signature says {want}")
    if digest.hexdigest() != header.fields["sqlite_sha256"]:
        raise VerifyError(Refusal.HASH_MISMATCH, f"{name} was altered after it was signed: its bytes do not match")
