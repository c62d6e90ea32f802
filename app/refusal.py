"""Why a bundle, a hub or a trust file was refused: one kind per reason, never read from message text."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """The reason a verification failed; scripts and tests branch on this, readers see the message."""

    MISSING = "missing"
    NOT_A_FILE = "not-a-file"
    TOO_LARGE = "too-large"
    NOT_SQLITE = "not-sqlite"
    NOT_SIGNED_FILE = "not-signed-file"
    TRUNCATED = "truncated"
    NOT_WAYPOST = "not-waypost"
    NEWER_SCHEMA = "newer-schema"
    OLDER_SCHEMA = "older-schema"
    FOREIGN_SCHEMA = "foreign-schema"
    CORRUPT = "corrupt"
    TOO_MUCH_WORK = "too-much-work"
    UNSIGNED = "unsigned"
    NO_ROOT = "no-root"
    ROOT_EXPIRED = "root-expired"
    UNKNOWN_KEY = "unknown-key"
    REVOKED = "revoked"
    OUT_OF_SCOPE = "out-of-scope"
    BAD_SIGNATURE = "bad-signature"
    BAD_HEADER = "bad-header"
    HASH_MISMATCH = "hash-mismatch"
    DIGEST_MISMATCH = "digest-mismatch"
    EXPIRED = "expired"
    NOT_NEWER = "not-newer"
    BAD_ROOT = "bad-root"
    ROOT_NOT_CHAINED = "root-not-chained"


class VerifyError(Exception):
    """Something that must not be trusted; `kind` says why, the message says it to a person."""

    def __init__(self, kind: Refusal, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def kiosk_hint(exc: Exception) -> str:
    """Return what a kiosk's operator can do about a refusal, as a clause to add to its message ("" if nothing)."""
    if getattr(exc, "kind", None) == Refusal.UNKNOWN_KEY:
        return "; if it is your publisher's key, get their current root.json and run `waypost keys trust root.json`"
    return ""


def printable(text: object, limit: int = 80) -> str:
    """Return text safe to print on a terminal or a page: no control or escape characters, bounded."""
    return "".join(c if c.isprintable() else "?" for c in str(text))[:limit]
