"""Publisher keys and Ed25519 signatures over bundles and sync manifests.

A publisher holds a secret key (`NAME.key`, owner-only) and puts the public
key (`NAME.pub`) in its trust root (root.py), which is what kiosks trust.
Each key is named by its *key id*, the first 16 hex digits of the SHA-256 of
the public key, so a signed file can say which key signed it. Each kind of
signed file has its own context prefix (here, in envelope.py, root.py and
publish.py), so a signature over one kind never passes as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

SECRET_TAG = "waypost-secret-key"
PUBLIC_TAG = "waypost-public-key"
# Each kind of signed thing has its own context, so a signature over a
# manifest can never be passed off as one over a bundle, or the other way round.
MANIFEST_CONTEXT = b"waypost-manifest-v1\n"


class KeyFileError(Exception):
    """A key file that cannot be used; the message says why."""


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    name: str
    verify_key: VerifyKey

    def verify(self, context: bytes, message: bytes, signature: bytes) -> bool:
        """Return whether signature is this key's signature over context + message."""
        try:
            self.verify_key.verify(context + message, signature)
        except BadSignatureError:
            return False
        return True


def key_id(public: bytes) -> str:
    """Return the short id that names a public key."""
    return hashlib.sha256(public).hexdigest()[:16]


def new_keypair(stem: Path, name: str) -> tuple[Path, Path]:
    """Write a new key pair as stem.key (owner-only) and stem.pub; refuse to overwrite."""
    secret_path, public_path = stem.with_suffix(".key"), stem.with_suffix(".pub")
    for path in (secret_path, public_path):
        if path.exists():
            raise KeyFileError(f"{path} already exists; choose another name or move it away first")
    signing = SigningKey.generate()
    public = bytes(signing.verify_key)
    secret_text = (
        "# Waypost publisher secret key. Keep it off kiosks and out of shared folders:\n"
        "# whoever holds it can publish guidance that every kiosk trusting it will accept.\n"
        f"{SECRET_TAG} ed25519 {_b64(bytes(signing))} {name}\n"
    )
    # O_EXCL with mode 0600: the secret is never readable by others, not even for a moment.
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret_text)
    public_path.write_text(f"{PUBLIC_TAG} ed25519 {_b64(public)} {name}\n", encoding="utf-8")
    return secret_path, public_path


def load_secret(path: Path) -> tuple[SigningKey, str]:
    """Read a secret key file and return the signing key and its key id."""
    seed = _read_key_line(path, SECRET_TAG)[0]
    if len(seed) != 32:
        raise KeyFileError(f"{path}: not an Ed25519 secret key")
    signing = SigningKey(seed)
    return signing, key_id(bytes(signing.verify_key))


def key_name(path: Path) -> str:
    """Return the name written in a key file (what `waypost keys new NAME` was given)."""
    return _read_key_line(path, SECRET_TAG if Path(path).suffix == ".key" else PUBLIC_TAG)[1]


def load_public(path: Path) -> PublicKey:
    """Read a public key file."""
    public, name = _read_key_line(path, PUBLIC_TAG)
    if len(public) != 32:
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return PublicKey(key_id(public), name or path.stem, VerifyKey(public))


def sign(signing: SigningKey, context: bytes, message: bytes) -> bytes:
    """Return the signature over context + message."""
    return signing.sign(context + message).signature


def encode_signature(signature: bytes) -> str:
    """Return a signature as text for metadata and manifests."""
    return _b64(signature)


def decode_signature(text: str) -> bytes | None:
    """Return the bytes of a signature written by encode_signature, or None if it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _read_key_line(path: Path, tag: str) -> tuple[bytes, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc}") from None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == tag and parts[1] == "ed25519":
            try:
                return base64.b64decode(parts[2], validate=True), " ".join(parts[3:])
            except (binascii.Error, ValueError):
                break
    kind = "secret" if tag == SECRET_TAG else "public"
    raise KeyFileError(f"{path} is not a Waypost {kind} key file")
