"""Publish a signed bundle as static files a kiosk can sync from, and assemble one back.

A published folder holds `manifest.json.br` and `objects/`. Each object is
one piece of a bundle's rows as canonical JSON, compressed with brotli, and
named by the SHA-256 of its JSON: one per article (with its search row), one
per language's glossary, and one for the languages and topics. The manifest
lists the objects with their sizes, carries the bundle's own signed seal, and
is signed as a whole. Any static web server, CDN or USB stick can carry it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import brotli
from marshmallow import Schema, ValidationError, fields, validate
from nacl.signing import SigningKey

from . import bundle, signing
from .builder import Rows, write_bundle
from .trust import SEAL_KEYS, verify_bundle

MANIFEST = "manifest.json.br"
MANIFEST_FORMAT = "waypost-manifest-1"
MAX_MANIFEST_RAW = 64 * 1024 * 1024
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$")


class PublishError(Exception):
    """A bundle that cannot be published, or a manifest that cannot be used."""


@dataclass(frozen=True)
class Piece:
    """One object of a bundle: its name in the manifest, its JSON, and its article row id."""

    name: str
    raw: bytes
    row_id: int | None = None

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


class SealSchema(Schema):
    schema_version = fields.String(required=True)
    content_digest = fields.String(required=True, validate=SHA256)
    built_at = fields.String(required=True)
    bundle_version = fields.String(required=True, validate=validate.Regexp(r"^\d{1,18}$"))
    expires = fields.Date(required=True)
    key_id = fields.String(required=True)
    signature = fields.String(required=True)


class ManifestSchema(Schema):
    """The signed body of a manifest; `objects` rows are [name, sha256, size, raw size, row id]."""

    format = fields.String(required=True, validate=validate.Equal(MANIFEST_FORMAT))
    bundle = fields.Nested(SealSchema, required=True)
    objects = fields.List(
        fields.Tuple(
            (
                fields.String(),
                fields.String(validate=SHA256),
                fields.Integer(validate=validate.Range(min=1)),
                fields.Integer(validate=validate.Range(min=1)),
                fields.Integer(allow_none=True),
            )
        ),
        required=True,
    )


def pieces(conn: sqlite3.Connection) -> list[Piece]:
    """Split a bundle's rows into the objects a manifest lists, in a fixed order."""
    meta = bundle.meta(conn)
    site = {
        "meta": {key: meta.get(key) for key in bundle.CONTENT_META},
        "languages": _select(conn, "SELECT * FROM languages ORDER BY code"),
        "topics": _select(conn, "SELECT * FROM topics ORDER BY slug"),
        "topic_names": _select(conn, "SELECT * FROM topic_names ORDER BY topic, lang"),
    }
    found = [Piece("site", _json(site))]
    # Row ids live in the manifest, not the objects: adding one article shifts
    # the ids of others, and that must not make their objects new.
    rows = conn.execute(
        "SELECT a.*, s.title AS search_title, s.body AS search_body"
        " FROM articles a JOIN search s ON s.rowid = a.id ORDER BY a.id"
    )
    for row in rows:
        article = dict(row)
        row_id = article.pop("id")
        search = {"title": article.pop("search_title"), "body": article.pop("search_body")}
        found.append(Piece(f"article/{article['lang']}/{article['slug']}", _json([article, search]), row_id))
    for (lang,) in conn.execute("SELECT DISTINCT lang FROM glossary ORDER BY lang"):
        terms = _select(conn, "SELECT * FROM glossary WHERE lang = ? ORDER BY id", (lang,))
        found.append(Piece(f"glossary/{lang}", _json(terms)))
    return found


def publish(bundle_path: Path, outdir: Path, secret: SigningKey, key_id: str, today: date) -> dict[str, int]:
    """Write a signed bundle's objects and signed manifest into outdir; return counts.

    Objects already in outdir are kept, so publishing a new version adds only
    what changed, and kiosks still syncing the previous manifest can finish.
    The manifest is written last, by rename, so it never names a missing object.
    """
    public = signing.PublicKey(key_id, "publisher", secret.verify_key)
    conn = bundle.connect(bundle_path)
    try:
        signer = bundle.meta(conn).get("key_id")
    finally:
        conn.close()
    if signer and signer != key_id:
        raise PublishError(f"{bundle_path} is signed by key {signer}; publish it with that key, not {key_id}")
    info = verify_bundle(bundle_path, {key_id: public}, today)  # raises VerifyError
    conn = bundle.connect(bundle_path)
    try:
        meta = bundle.meta(conn)
        found = pieces(conn)
    finally:
        conn.close()
    written = 0
    entries = []
    for piece in found:
        path = object_path(outdir, piece.hash)
        if not path.exists():
            _write_atomic(path, brotli.compress(piece.raw, quality=11))
            written += 1
        entries.append([piece.name, piece.hash, path.stat().st_size, len(piece.raw), piece.row_id])
    seal = {key: meta[key] for key in ("schema_version", "content_digest", "built_at", *SEAL_KEYS)}
    body = _json({"format": MANIFEST_FORMAT, "bundle": seal, "objects": entries})
    signature = signing.sign(secret, signing.MANIFEST_CONTEXT, body)
    wrapper = {"key_id": key_id, "signature": signing.encode_signature(signature), "body": body.decode("utf-8")}
    _write_atomic(outdir / MANIFEST, brotli.compress(_json(wrapper), quality=11))
    return {"version": info.version, "objects": len(found), "written": written}


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


def read_manifest(data: bytes, trusted: dict[str, signing.PublicKey]) -> dict[str, Any]:
    """Check a downloaded manifest's signature and shape; return its body."""
    try:
        wrapper = json.loads(unpack(data, MAX_MANIFEST_RAW) or b"")
        body = wrapper["body"].encode("utf-8")
        key = trusted.get(wrapper["key_id"])
        signature = signing.decode_signature(wrapper["signature"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PublishError("the manifest is not a Waypost manifest (damaged or incomplete download?)") from None
    if key is None:
        raise PublishError(f"the manifest is signed by key {wrapper['key_id']}, not one this kiosk trusts")
    if signature is None or not key.verify(signing.MANIFEST_CONTEXT, body, signature):
        raise PublishError("the manifest's signature does not match it: it was altered")
    try:
        return ManifestSchema().load(json.loads(body))
    except (ValidationError, ValueError) as exc:
        raise PublishError(f"the manifest is malformed: {exc}") from None


def assemble(manifest: dict[str, Any], raw_objects: dict[str, bytes], out: Path) -> str:
    """Write the bundle a manifest describes from its objects' JSON; return its content digest.

    The caller verifies the result: its digest must be the one the publisher signed.
    """
    rows: Rows = {"meta": [], "languages": [], "topics": [], "topic_names": [], "articles": [], "search": []}
    rows["glossary"] = []
    for name, digest, _size, _raw_size, row_id in manifest["objects"]:
        data = json.loads(raw_objects[digest])
        if name == "site":
            rows["meta"] = [{"key": k, "value": v} for k, v in data["meta"].items()]
            for table in ("languages", "topics", "topic_names"):
                rows[table] = data[table]
        elif name.startswith("article/"):
            article, search = data
            rows["articles"].append({"id": row_id, **article})
            rows["search"].append({"rowid": row_id, **search})
        else:
            rows["glossary"].extend(data)
    seal = manifest["bundle"]
    stored = {key: str(seal[key]) for key in SEAL_KEYS}
    stored["expires"] = seal["expires"].isoformat()
    return write_bundle(rows, out, seal=lambda _digest, _built: stored, built_at=seal["built_at"])


def object_path(root: Path, digest: str) -> Path:
    """Return where an object lives below a published folder or a kiosk's cache."""
    return root / "objects" / digest[:2] / f"{digest}.br"


def _select(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
