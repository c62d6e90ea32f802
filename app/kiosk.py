"""Install bundles on a kiosk: verified, atomic, with the previous ones kept for rollback.

The live bundle is one file. A new one is copied beside it under a temporary
name, flushed to disk, verified, and renamed over it; a rename is atomic, so
whenever the power fails the live path holds either the old bundle or the new
one, never a mix. The server opens the live path afresh for each request, so a
running server starts serving the new bundle with no restart, while requests
already in flight finish on the old file they opened.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from . import bundle, signing
from .builder import fsync_dir
from .trust import BundleInfo, VerifyError, describe, verify_bundle

HISTORY_NAME = re.compile(r"^(\d{6})-v(\d+)-([0-9a-f]{12})\.bundle$")


class ImportRefused(Exception):
    """An install or rollback that was refused; the live bundle is unchanged."""


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when WAYPOST_CRASH_AT names this point.

    A fault-injection hook for the power-cut tests: they run real imports and
    syncs in a subprocess and kill them at each named step.
    """
    if os.environ.get("WAYPOST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Kiosk:
    """Where a kiosk keeps its live bundle, its history and its trusted keys."""

    live: Path
    trusted_keys: Path
    keep: int = 3
    max_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_config(cls, config: dict[str, Any], instance_path: str) -> Kiosk:
        """Return the kiosk an app's settings describe."""
        trusted = config.get("TRUSTED_KEYS") or Path(instance_path) / "trusted-keys"
        return cls(
            live=Path(config["BUNDLE"]),
            trusted_keys=Path(trusted),
            keep=int(config["KEEP_BUNDLES"]),
            max_bytes=int(config["MAX_BUNDLE_MB"]) * 1024 * 1024,
        )

    @property
    def history(self) -> Path:
        return self.live.parent / "previous-bundles"

    def trusted(self) -> dict[str, signing.PublicKey]:
        """Return the publisher keys this kiosk trusts."""
        return signing.load_trusted([self.trusted_keys])

    def current(self) -> BundleInfo | None:
        """Return the live bundle's description, or None when there is no usable one."""
        try:
            return describe(self.live)
        except (bundle.BundleError, VerifyError):
            return None

    def previous(self) -> list[Path]:
        """Return the kept bundles, newest first."""
        if not self.history.is_dir():
            return []
        found = [p for p in self.history.iterdir() if HISTORY_NAME.match(p.name)]
        return sorted(found, key=lambda p: p.name, reverse=True)


def import_bundle(kiosk: Kiosk, source: Path, today: date, *, allow_downgrade: bool = False) -> BundleInfo | None:
    """Verify a bundle file and make it the live one; return None if it is live already.

    Refuses (ImportRefused or VerifyError, nothing changed) a file over the
    size limit, one that fails verification against the trusted keys, an
    expired one, and one not newer than the live bundle unless downgrading is
    allowed.
    """
    source = Path(source)
    if not source.is_file():
        raise ImportRefused(f"no bundle file at {source}")
    size = source.stat().st_size
    if size > kiosk.max_bytes:
        raise ImportRefused(
            f"{source} is {size // (1024 * 1024)} MB, over this kiosk's limit of {kiosk.max_bytes // (1024 * 1024)} MB"
        )
    with _locked(kiosk):
        tmp = _temp_path(kiosk, "import")
        try:
            _copy_synced(source, tmp)
            crash_point("import-copied")
            # Verify the copy, not the source: what is checked is what is installed.
            info = verify_bundle(tmp, kiosk.trusted(), today)
            current = kiosk.current()
            if current and current.content_digest == info.content_digest and current.version == info.version:
                return None
            if current and current.signed and info.version <= current.version and not allow_downgrade:
                raise ImportRefused(
                    f"{source} is version {info.version}, not newer than the installed version "
                    f"{current.version}; use --allow-downgrade to install it anyway"
                )
            crash_point("import-verified")
            _install(kiosk, tmp, current)
        finally:
            tmp.unlink(missing_ok=True)
        _prune(kiosk)
    return info


def rollback(kiosk: Kiosk, today: date) -> BundleInfo:
    """Put the most recent kept bundle back live, and drop it from the kept list."""
    with _locked(kiosk):
        current = kiosk.current()
        for candidate in kiosk.previous():
            if current and candidate.name.endswith(_history_suffix(current)):
                candidate.unlink()  # the live bundle itself, kept twice by an interrupted install
                continue
            try:
                info = verify_bundle(candidate, kiosk.trusted(), today, require_signature=False)
            except VerifyError as exc:
                raise ImportRefused(f"cannot roll back to {candidate.name}: {exc}") from None
            tmp = _temp_path(kiosk, "rollback")
            try:
                _copy_synced(candidate, tmp)
                os.replace(tmp, kiosk.live)
                fsync_dir(kiosk.live.parent)
            finally:
                tmp.unlink(missing_ok=True)
            candidate.unlink()
            return info
    raise ImportRefused("there is no previous bundle to roll back to")


def _install(kiosk: Kiosk, tmp: Path, current: BundleInfo | None) -> None:
    if current is not None:
        _archive(kiosk, current)
        crash_point("import-archived")
    os.replace(tmp, kiosk.live)
    fsync_dir(kiosk.live.parent)
    crash_point("import-replaced")


def _archive(kiosk: Kiosk, current: BundleInfo) -> None:
    """Keep the live bundle in the history folder before it is replaced."""
    kiosk.history.mkdir(parents=True, exist_ok=True)
    kept = kiosk.previous()
    if kept and kept[0].name.endswith(_history_suffix(current)):
        return  # kept already, by an install that was interrupted after this step
    newest = HISTORY_NAME.match(kept[0].name) if kept else None
    seq = int(newest[1]) + 1 if newest else 1
    target = kiosk.history / f"{seq:06d}{_history_suffix(current)}"
    tmp = kiosk.history / f".{target.name}.tmp"
    try:
        # A hard link costs no space and no time; copy where links are not possible.
        os.link(kiosk.live, tmp)
    except OSError:
        _copy_synced(kiosk.live, tmp)
    os.replace(tmp, target)
    fsync_dir(kiosk.history)


def _history_suffix(info: BundleInfo) -> str:
    return f"-v{info.version}-{info.content_digest[:12]}.bundle"


def _prune(kiosk: Kiosk) -> None:
    for old in kiosk.previous()[kiosk.keep :]:
        old.unlink(missing_ok=True)


def _temp_path(kiosk: Kiosk, kind: str) -> Path:
    return kiosk.live.with_name(f".{kiosk.live.name}.{kind}-{os.getpid()}.tmp")


def _copy_synced(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())


@contextmanager
def _locked(kiosk: Kiosk) -> Iterator[None]:
    """Let one install, rollback or sync change the kiosk at a time; clear what a crash left."""
    kiosk.live.parent.mkdir(parents=True, exist_ok=True)
    lock_path = kiosk.live.with_name(kiosk.live.name + ".lock")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportRefused("another import, rollback or sync is running; try again when it ends") from None
        try:
            # The lock is ours, so any temporary file left here is from a process that died.
            for stale in kiosk.live.parent.glob(f".{kiosk.live.name}.*.tmp"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def status(kiosk: Kiosk, today: date) -> dict[str, Any]:
    """Return the live bundle's facts (None when there is none) and the kept bundles' names."""
    current = kiosk.current()
    live = None
    if current is not None:
        try:
            key = kiosk.trusted().get(current.key_id)
        except signing.KeyFileError:
            key = None  # a broken key file is reported by `waypost keys list`, not here
        live = current.as_dict() | {"publisher": key.name if key else None, "expired": current.expired(today)}
    return {"live": live, "previous": [p.name for p in kiosk.previous()]}
