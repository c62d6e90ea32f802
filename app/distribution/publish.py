"""Publish a signed bundle as static files a kiosk can sync from, and assemble one back.

A published folder (a *hub*) holds:

- `objects/`: each piece of a bundle's rows as canonical JSON, compressed with
  brotli and named by the SHA-256 of its JSON: one per article (a kiosk
  derives the search index from them), one per language's glossary, one for the languages and topics;
- `manifest.json.br`: the objects with their sizes and the bundle's signed
  facts, signed as a whole;
- `timestamp.json`: a short-lived signature over the manifest's hash, re-signed
  by `waypost publish --refresh` without rebuilding, so a kiosk notices a hub
  that keeps serving an old manifest (a *freeze*);
- `root.json` and `roots/N.json`: the publisher's trust roots, so kiosks
  follow a key rotation by themselves.

Any static web server, CDN or USB stick can carry it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import brotli
from marshmallow import Schema, ValidationError, fields, validate
from nacl.signing import SigningKey

from app import fsutil
from app.bundle import read as bundle
from app.bundle.schema import canonical
from app.distribution import signing
from app.distribution.envelope import key_id_field, languages_field, publisher_field, version_field
from app.distribution.objects import Piece, assemble, pieces
from app.distribution.root import Root
from app.distribution.trust import verify_bundle
from app.refusal import Refusal, VerifyError, printable

__all__ = ["Piece", "assemble", "pieces"]  # kept importable from here

MANIFEST = "manifest.json.br"
TIMESTAMP = "timestamp.json"
ROOT = "root.json"
MANIFEST_FORMAT = "waypost-manifest-4"
TIMESTAMP_FORMAT = "waypost-timestamp-1"
TIMESTAMP_CONTEXT = b"waypost-timestamp-v1\n"
MAX_MANIFEST_RAW = 64 * 1024 * 1024
MAX_TIMESTAMP = 16 * 1024
DEFAULT_TIMESTAMP_DAYS = 7
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$")


class PublishError(Exception):
    """A bundle that cannot be published, or a hub file that cannot be used (`kind` when a signer is refused)."""

    def __init__(self, message: str, kind: Refusal | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class SealSchema(Schema):
    """The bundle facts a manifest signs: the envelope header's, less the SQLite file's own hash."""

    schema_version = fields.Integer(required=True, strict=True)
    content_digest = fields.String(required=True, validate=SHA256)
    built_at = fields.String(required=True, validate=validate.Length(max=40))
    bundle_version = version_field()
    expires = fields.Date(required=True)
    key_id = key_id_field()
    publisher = publisher_field()
    languages = languages_field()


class ObjectSchema(Schema):
    """One row of a manifest's object list."""

    name = fields.String(required=True, validate=validate.Length(1, 300))
    sha256 = fields.String(required=True, validate=SHA256)
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    raw_size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    row_id = fields.Integer(required=True, strict=True, allow_none=True)


class ManifestSchema(Schema):
    """The signed body of a manifest."""

    format = fields.String(required=True, validate=validate.Equal(MANIFEST_FORMAT))
    bundle = fields.Nested(SealSchema, required=True)
    objects = fields.List(fields.Nested(ObjectSchema), required=True)


class SignedFileSchema(Schema):
    """The wrapper of a signed hub file: who signed, the signature, the body it covers."""

    key_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{16}$"))
    signature = fields.String(required=True)
    body = fields.String(required=True)


class TimestampSchema(Schema):
    format = fields.String(required=True, validate=validate.Equal(TIMESTAMP_FORMAT))
    manifest_sha256 = fields.String(required=True, validate=SHA256)
    bundle_version = version_field()
    signed_at = fields.Date(required=True)
    expires = fields.Date(required=True)


def publish(
    bundle_path: Path,
    outdir: Path,
    secret: SigningKey,
    key_id: str,
    root: Root,
    today: date,
    *,
    timestamp_days: int = DEFAULT_TIMESTAMP_DAYS,
    allow_downgrade: bool = False,
) -> dict[str, int]:
    """Write a signed bundle's objects, signed manifest, timestamp and root into outdir; return counts.

    Objects already in outdir are kept, so publishing a new version adds only
    what changed, and kiosks still syncing the previous manifest can finish.
    The manifest and timestamp are written last, by rename, so they never name
    a missing object. A version not newer than the hub's is refused unless
    `allow_downgrade`, since every kiosk would refuse it anyway.
    """
    outdir = Path(outdir)
    with tempfile.TemporaryDirectory(prefix="waypost-publish-") as folder:
        work = Path(folder) / "bundle.sqlite"
        info = verify_bundle(bundle_path, root, today, work)
        root.signer(key_id, "bundle", today, publisher=info.publisher, languages=info.languages)
        published = hub_version(outdir)
        if published is not None and info.version <= published and not allow_downgrade:
            raise PublishError(
                f"{outdir} already publishes version {published}; {bundle_path} is version "
                f"{info.version}. Build a newer one, or pass --allow-downgrade"
            )
        conn = bundle.connect(work)
        try:
            found = pieces(conn)
        finally:
            conn.close()
    written = 0
    entries = []
    for piece in found:
        path = object_path(outdir, piece.hash)
        if not path.exists():
            fsutil.atomic_write(path, brotli.compress(piece.raw, quality=11))
            written += 1
        entries.append(
            {
                "name": piece.name,
                "sha256": piece.hash,
                "size": path.stat().st_size,
                "raw_size": len(piece.raw),
                "row_id": piece.row_id,
            }
        )
    seal = {
        "schema_version": bundle.SCHEMA_VERSION,
        "content_digest": info.content_digest,
        "built_at": info.built_at,
        "bundle_version": info.version,
        "expires": info.expires.isoformat() if info.expires else None,
        "key_id": info.key_id,
        "publisher": info.publisher,
        "languages": list(info.languages),
    }
    manifest = brotli.compress(
        _signed(
            secret, key_id, signing.MANIFEST_CONTEXT, {"format": MANIFEST_FORMAT, "bundle": seal, "objects": entries}
        ),
        quality=11,
    )
    write_roots(outdir, root)
    fsutil.atomic_write(outdir / MANIFEST, manifest)
    write_timestamp(outdir, secret, key_id, root, today, timestamp_days)
    return {"version": info.version, "objects": len(found), "written": written}


def write_timestamp(outdir: Path, secret: SigningKey, key_id: str, root: Root, today: date, days: int) -> date:
    """Sign the hub's current manifest as fresh until today + days; return that expiry.

    `waypost publish --refresh` calls this alone, so a publisher can keep a
    hub fresh every few days without rebuilding anything.
    """
    root.signer(key_id, "timestamp", today)
    try:
        manifest = (Path(outdir) / MANIFEST).read_bytes()
    except FileNotFoundError:
        raise PublishError(f"{outdir} has no {MANIFEST}: publish a bundle there first") from None
    version = hub_version(outdir)
    if version is None:
        raise PublishError(f"{outdir}/{MANIFEST} is damaged: publish the bundle there again")
    expires = today + timedelta(days=days)
    body = {
        "format": TIMESTAMP_FORMAT,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "bundle_version": version,
        "signed_at": today.isoformat(),
        "expires": expires.isoformat(),
    }
    fsutil.atomic_write(Path(outdir) / TIMESTAMP, _signed(secret, key_id, TIMESTAMP_CONTEXT, body))
    return expires


def write_roots(outdir: Path, root: Root) -> None:
    """Put the publisher's root in the hub as root.json and roots/VERSION.json, keeping earlier versions."""
    fsutil.atomic_write(Path(outdir) / "roots" / f"{root.version}.json", root.data)
    fsutil.atomic_write(Path(outdir) / ROOT, root.data)


def hub_version(outdir: Path) -> int | None:
    """Return the bundle version a hub folder publishes now, or None if it publishes nothing readable."""
    try:
        wrapper = json.loads(unpack((Path(outdir) / MANIFEST).read_bytes(), MAX_MANIFEST_RAW) or b"")
        return int(json.loads(wrapper["body"])["bundle"]["bundle_version"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def unpack(data: bytes, limit: int) -> bytes | None:
    """Decompress brotli data, or return None if it is damaged or grows past limit bytes.

    The limit matters: a few kilobytes of crafted brotli can expand to gigabytes.
    """
    decompressor = brotli.Decompressor()
    try:
        raw = decompressor.process(data, output_buffer_limit=limit + 1)
    except brotli.error:
        return None
    return raw if len(raw) <= limit and decompressor.is_finished() else None


def read_signed(data: bytes, what: str) -> tuple[str, bytes, bytes]:
    """Return (key id, signature, body) of a signed hub file, or raise PublishError for any damage."""
    try:
        wrapper = SignedFileSchema().load(json.loads(data))
        signature = base64.b64decode(wrapper["signature"], validate=True)
    except (ValueError, ValidationError, RecursionError, TypeError, binascii.Error):
        raise PublishError(f"the hub's {what} is not a Waypost {what} (damaged or incomplete download?)") from None
    if len(signature) != 64:
        raise PublishError(f"the hub's {what} has a damaged signature")
    return wrapper["key_id"], signature, wrapper["body"].encode("utf-8")


def read_timestamp(data: bytes, root: Root, today: date) -> dict[str, Any]:
    """Check the hub's timestamp: signed by a timestamp key of the root, and not expired."""
    key_id, signature, body = read_signed(data, "timestamp")
    key = _signer(root, key_id, "timestamp", today, "timestamp")
    if not key.verify(TIMESTAMP_CONTEXT, body, signature):
        raise PublishError("the hub's timestamp does not match its signature: it was altered")
    stamp = _load(TimestampSchema(), body, "timestamp")
    if stamp["expires"] < today:
        raise PublishError(
            f"the hub's timestamp expired on {stamp['expires']}: the hub may be frozen on old "
            "guidance, or the publisher has not refreshed it (`waypost publish --refresh`)"
        )
    return stamp


def read_manifest(data: bytes, root: Root, today: date) -> dict[str, Any]:
    """Check a downloaded manifest's signature, signer and shape; return its body."""
    raw = unpack(data, MAX_MANIFEST_RAW)
    if raw is None:
        raise PublishError("the hub's manifest is damaged (incomplete download?)")
    key_id, signature, body = read_signed(raw, "manifest")
    manifest = _load(ManifestSchema(), body, "manifest")
    seal = manifest["bundle"]
    key = _signer(root, key_id, "bundle", today, "manifest", seal["publisher"], tuple(seal["languages"]))
    if not key.verify(signing.MANIFEST_CONTEXT, body, signature):
        raise PublishError("the hub's manifest does not match its signature: it was altered")
    if seal["key_id"] != key_id:
        raise PublishError("the hub's manifest is signed by another key than its bundle")
    return manifest


def object_path(root: Path, digest: str) -> Path:
    """Return where an object lives below a published folder or a kiosk's cache."""
    return root / "objects" / digest[:2] / f"{digest}.br"


def _signer(
    root: Root,
    key_id: str,
    role: str,
    today: date,
    what: str,
    publisher: str | None = None,
    languages: tuple[str, ...] = (),
) -> signing.PublicKey:
    try:
        return root.signer(key_id, role, today, publisher=publisher, languages=languages)
    except VerifyError as exc:
        raise PublishError(f"the hub's {what} is refused: {exc}", exc.kind) from None


def _load(schema: Schema, body: bytes, what: str) -> dict[str, Any]:
    try:
        loaded = schema.load(json.loads(body))
    except (ValidationError, ValueError, RecursionError, TypeError) as exc:
        detail = printable(exc.messages if isinstance(exc, ValidationError) else "not JSON", 120)
        raise PublishError(f"the hub's {what} is malformed: {detail}") from None
    assert isinstance(loaded, dict)
    return loaded


def _signed(secret: SigningKey, key_id: str, context: bytes, body: dict[str, Any]) -> bytes:
    raw = canonical(body)
    signature = signing.sign(secret, context, raw)
    return canonical({"key_id": key_id, "signature": signing.encode_signature(signature), "body": raw.decode("utf-8")})
