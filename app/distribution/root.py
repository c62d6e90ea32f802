"""The trust root: which publisher keys a kiosk accepts, for what, until when; rotated by chaining.

A root is one small signed JSON file (`root.json`). It lists publisher keys,
each with its roles (`root` signs the next root, `bundle` signs bundles and
manifests, `timestamp` signs a hub's freshness file) and its scope (which
publisher ids and which languages it may sign for), the keys that are
revoked, an expiry date, and a threshold: how many root keys must sign.

Rotation works as in TUF: root version N+1 is accepted only when it is signed
by a threshold of the root keys of version N *and* of its own root keys, so a
kiosk that trusts version 1 can follow every later version and nobody without
the old root keys can make one. A kiosk trusts its first root explicitly
(`waypost keys trust root.json`), once.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import SigningKey, VerifyKey

from app.bundle.schema import canonical
from app.distribution.signing import PublicKey, key_id
from app.refusal import Refusal, VerifyError, printable

ROOT_FORMAT = "waypost-root-1"
ROOT_CONTEXT = b"waypost-root-v1\n"
ROLES = ("root", "bundle", "timestamp")
ANY = "*"
MAX_ROOT_BYTES = 256 * 1024
KEY_ID = validate.Regexp(r"^[0-9a-f]{16}$")
PUBLISHER_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class _KeySchema(Schema):
    public = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 80))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True, validate=validate.Length(1))
    publishers = fields.List(fields.String(validate=validate.Length(1, 64)), required=True, validate=validate.Length(1))
    languages = fields.List(fields.String(validate=validate.Length(1, 35)), required=True, validate=validate.Length(1))


class _SignedSchema(Schema):
    format = fields.String(required=True, validate=validate.Equal(ROOT_FORMAT))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10**9))
    expires = fields.Date(required=True)
    threshold = fields.Integer(required=True, strict=True, validate=validate.Range(1, 16))
    keys = fields.Dict(keys=fields.String(validate=KEY_ID), values=fields.Nested(_KeySchema), required=True)
    revoked = fields.List(fields.String(validate=KEY_ID), required=True)


class _SignatureSchema(Schema):
    key_id = fields.String(required=True, validate=KEY_ID)
    signature = fields.String(required=True)


class _FileSchema(Schema):
    signed = fields.Dict(required=True)
    signatures = fields.List(fields.Nested(_SignatureSchema), required=True, validate=validate.Length(max=32))


@dataclass(frozen=True)
class RootKey:
    """One publisher key as the root describes it."""

    key: PublicKey
    roles: frozenset[str]
    publishers: tuple[str, ...]
    languages: tuple[str, ...]

    def refusal(self, role: str, publisher: str | None = None, languages: tuple[str, ...] = ()) -> str | None:
        """Return why this key may not sign this (None when it may)."""
        if role not in self.roles:
            return f"key {self.key.key_id} ({printable(self.key.name)}) may not sign a {role}"
        if publisher is not None and ANY not in self.publishers and publisher not in self.publishers:
            return f"key {self.key.key_id} may not publish for '{printable(publisher)}'"
        outside = sorted(set(languages) - set(self.languages)) if ANY not in self.languages else []
        if outside:
            return f"key {self.key.key_id} may not publish in {', '.join(printable(x, 12) for x in outside)}"
        return None


@dataclass(frozen=True)
class Root:
    """A verified trust root."""

    version: int
    expires: date
    threshold: int
    keys: dict[str, RootKey]
    revoked: frozenset[str]
    data: bytes  # the file as verified, kept byte for byte

    def expired(self, today: date) -> bool:
        """Return whether the root's own expiry date has passed."""
        return self.expires < today

    def signer(
        self, key: str, role: str, today: date, *, publisher: str | None = None, languages: tuple[str, ...] = ()
    ) -> PublicKey:
        """Return the key that may sign this, or raise VerifyError saying why no key may."""
        if self.expired(today):
            raise VerifyError(
                Refusal.ROOT_EXPIRED,
                f"this kiosk's trust root expired on {self.expires}: "
                "get the publisher's new root.json and run `waypost keys trust` with it",
            )
        if key in self.revoked:
            raise VerifyError(Refusal.REVOKED, f"it is signed by key {printable(key, 16)}, which is revoked")
        found = self.keys.get(key)
        if found is None:
            raise VerifyError(
                Refusal.UNKNOWN_KEY,
                f"it is signed by key {printable(key, 16)}, which this kiosk's trust root does not list",
            )
        reason = found.refusal(role, publisher, languages)
        if reason:
            raise VerifyError(Refusal.OUT_OF_SCOPE, reason)
        return found.key

    def trusts(self, key: str) -> bool:
        """Return whether a key is listed and not revoked (what a kept bundle needs to be served again)."""
        return key in self.keys and key not in self.revoked


def load_root(data: bytes, previous: Root | None = None, *, name: str = "root.json") -> Root:
    """Check a root file's shape and signatures; with `previous`, also that it follows on from it.

    Raises VerifyError. Expiry is not checked here: an expired root may still
    sign its successor, which is how a kiosk that was off for a year catches up.
    """
    signed, signatures = _parse(data, name)
    root = _root(signed, data, name)
    body, signers = canonical(signed), _valid_signers(signatures)
    if _count(body, signers, root) < root.threshold:
        raise VerifyError(Refusal.BAD_ROOT, f"{name} is not signed by {root.threshold} of its own root keys")
    if previous is not None:
        if root.version != previous.version + 1:
            raise VerifyError(
                Refusal.ROOT_NOT_CHAINED,
                f"{name} is root version {root.version}; this kiosk has "
                f"version {previous.version} and accepts only version {previous.version + 1} next",
            )
        if _count(body, signers, previous) < previous.threshold:
            raise VerifyError(
                Refusal.ROOT_NOT_CHAINED,
                f"{name} is not signed by {previous.threshold} of the "
                f"root keys of version {previous.version}, which this kiosk trusts",
            )
    return root


def make_root(
    version: int,
    expires: date,
    keys: list[dict[str, Any]],
    signers: list[SigningKey],
    *,
    threshold: int = 1,
    revoked: list[str] | None = None,
) -> bytes:
    """Return a root file: `keys` rows have public (VerifyKey), name, roles, publishers, languages."""
    signed = {
        "format": ROOT_FORMAT,
        "version": version,
        "expires": expires.isoformat(),
        "threshold": threshold,
        "keys": {
            key_id(bytes(k["public"])): {
                "public": base64.b64encode(bytes(k["public"])).decode("ascii"),
                "name": k["name"],
                "roles": sorted(k["roles"]),
                "publishers": sorted(k["publishers"]),
                "languages": sorted(k["languages"]),
            }
            for k in keys
        },
        "revoked": sorted(set(revoked or [])),
    }
    return sign_root(signed, signers)


def sign_root(signed: dict[str, Any], signers: list[SigningKey], existing: list[dict[str, str]] | None = None) -> bytes:
    """Return a root file for `signed`, with a signature by each signer (added to `existing` ones)."""
    body = canonical(signed)
    signatures = {s["key_id"]: s for s in existing or []}
    for secret in signers:
        kid = key_id(bytes(secret.verify_key))
        sig = secret.sign(ROOT_CONTEXT + body).signature
        signatures[kid] = {"key_id": kid, "signature": base64.b64encode(sig).decode("ascii")}
    document = {"signed": signed, "signatures": [signatures[k] for k in sorted(signatures)]}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"


def edit_root(root: Root, signers: list[SigningKey], **changes: Any) -> bytes:
    """Return the next version of a root with some fields changed, signed by signers."""
    signed, _ = _parse(root.data, "root.json")
    signed = {**signed, **changes, "version": root.version + 1}
    return sign_root(signed, signers)


def add_signatures(data: bytes, signers: list[SigningKey]) -> bytes:
    """Return a root file with more signatures over the same content (for a threshold above one)."""
    signed, signatures = _parse(data, "root.json")
    return sign_root(signed, signers, signatures)


def signed_fields(root: Root) -> dict[str, Any]:
    """Return the signed part of a root as plain JSON values."""
    return _parse(root.data, "root.json")[0]


def _parse(data: bytes, name: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if len(data) > MAX_ROOT_BYTES:
        raise VerifyError(Refusal.BAD_ROOT, f"{name} is too large to be a trust root")
    try:
        document = _FileSchema().load(json.loads(data))
        _SignedSchema().load(document["signed"])
    except (ValidationError, ValueError, RecursionError, TypeError) as exc:
        detail = printable(exc.messages if isinstance(exc, ValidationError) else "not JSON", 120)
        raise VerifyError(Refusal.BAD_ROOT, f"{name} is not a Waypost trust root ({detail})") from None
    return document["signed"], document["signatures"]


def _root(signed: dict[str, Any], data: bytes, name: str) -> Root:
    loaded = _SignedSchema().load(signed)
    keys = {}
    for kid, row in loaded["keys"].items():
        try:
            raw = base64.b64decode(row["public"], validate=True)
            verify = VerifyKey(raw)
        except (binascii.Error, ValueError, NaclValueError, TypeError):
            raise VerifyError(Refusal.BAD_ROOT, f"{name} lists a public key that is not Ed25519") from None
        if key_id(raw) != kid:
            raise VerifyError(Refusal.BAD_ROOT, f"{name} lists key {kid} under the wrong id")
        keys[kid] = RootKey(
            PublicKey(kid, row["name"], verify),
            frozenset(row["roles"]),
            tuple(row["publishers"]),
            tuple(row["languages"]),
        )
    if not any("root" in k.roles for k in keys.values()):
        raise VerifyError(Refusal.BAD_ROOT, f"{name} has no root key, so it could never be rotated")
    return Root(loaded["version"], loaded["expires"], loaded["threshold"], keys, frozenset(loaded["revoked"]), data)


def _valid_signers(signatures: list[dict[str, str]]) -> dict[str, bytes]:
    """Return {key id: signature} for the signatures that decode; _count checks them against a root."""
    found = {}
    for item in signatures:
        try:
            raw = base64.b64decode(item["signature"], validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 64:
            found[item["key_id"]] = raw
    return found


def _count(body: bytes, signers: dict[str, bytes], root: Root) -> int:
    """Count the distinct, unrevoked root keys of `root` whose signature over body is good."""
    good = 0
    for kid, signature in signers.items():
        entry = root.keys.get(kid)
        if entry is None or "root" not in entry.roles or kid in root.revoked:
            continue
        try:
            entry.key.verify_key.verify(ROOT_CONTEXT + body, signature)
        except BadSignatureError:
            continue
        good += 1
    return good
