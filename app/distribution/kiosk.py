"""Install bundles on a kiosk: verified, atomic, with the previous ones kept for rollback.

The live bundle is one plain SQLite file that only this kiosk writes. A signed
bundle file is checked and its SQLite bytes copied beside the live one under
a temporary name, flushed, checked again as a database, and renamed over it;
a rename is atomic, so whenever the power fails the live path holds either
the old bundle or the new one. The server opens the live path afresh, so it
serves the new bundle at once, while requests in flight finish on the old file.

Trust comes from the kiosk's root (root.py) in its trust folder, plus keys
this kiosk revoked itself. A bundle whose key stops being trusted stops being
served: the kiosk rolls back to the newest kept bundle that is still trusted.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from app import fsutil, kiosk_state
from app.bundle import read as bundle
from app.distribution.root import Root, load_root
from app.distribution.trust import BundleInfo, check_sqlite, describe, verify_bundle
from app.refusal import Refusal, VerifyError, printable

HISTORY_NAME = re.compile(r"^(\d{6})-v(\d+)-([0-9a-f]{12})\.bundle$")
ROOT_NAME = kiosk_state.ROOT_NAME
REVOKED_NAME = "revoked.txt"
KEY_ID = re.compile(r"^[0-9a-f]{16}$")


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
    """Where a kiosk keeps its live bundle, its history and its trust root."""

    live: Path
    trust: Path
    keep: int = 3
    max_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_config(cls, config: dict[str, Any], instance_path: str | Path) -> Kiosk:
        """Return the kiosk that settings describe."""
        live = config.get("BUNDLE") or Path(instance_path) / "waypost.bundle"
        return cls(
            live=Path(live),
            trust=kiosk_state.trust_folder(config, instance_path),
            keep=int(config["KEEP_BUNDLES"]),
            max_bytes=int(config["MAX_BUNDLE_MB"]) * 1024 * 1024,
        )

    @property
    def history(self) -> Path:
        return self.live.parent / kiosk_state.HISTORY_FOLDER

    def root(self) -> Root | None:
        """Return the trust root with this kiosk's own revocations added, or None before one is trusted.

        Raises VerifyError if the stored root is damaged.
        """
        path = self.trust / ROOT_NAME
        if not path.is_file():
            return None
        root = load_root(path.read_bytes(), name=str(path))
        return replace(root, revoked=root.revoked | self.revoked_here())

    def revoked_here(self) -> frozenset[str]:
        """Return the key ids this kiosk's operator revoked with `waypost keys revoke`."""
        try:
            lines = (self.trust / REVOKED_NAME).read_text(encoding="utf-8").split()
        except OSError:
            return frozenset()
        return frozenset(line for line in lines if KEY_ID.match(line))

    def current(self) -> BundleInfo | None:
        """Return the live bundle's description, or None when there is no usable one."""
        try:
            return describe(self.live)
        except (bundle.BundleError, VerifyError, OSError):
            return None

    def previous(self) -> list[Path]:
        """Return the kept bundles, newest first."""
        if not self.history.is_dir():
            return []
        found = [p for p in self.history.iterdir() if HISTORY_NAME.match(p.name)]
        return sorted(found, key=lambda p: p.name, reverse=True)


def check_newer(current: BundleInfo | None, new: BundleInfo, name: str, allow_downgrade: bool = False) -> bool:
    """Apply the one version policy; return False when `new` is the live bundle already.

    A signed bundle replaces the live one only with a higher version, so an
    old file (or a hub frozen in the past) can never take guidance back in
    time; `allow_downgrade` is the operator's explicit override.
    """
    if current and current.content_digest == new.content_digest and current.version == new.version:
        return False
    if current and current.signed and new.version <= current.version and not allow_downgrade:
        raise VerifyError(
            Refusal.NOT_NEWER,
            f"{name} is version {new.version}, not newer than the installed "
            f"version {current.version}; use --allow-downgrade to install it anyway",
        )
    return True


def import_bundle(kiosk: Kiosk, source: Path, today: date, *, allow_downgrade: bool = False) -> BundleInfo | None:
    """Verify a signed bundle file and make it the live one; return None if it is live already.

    Refuses (ImportRefused or VerifyError, nothing changed) a file over the
    size limit, one the trust root does not vouch for, an altered or expired
    one, and one not newer than the live bundle unless downgrading is allowed.
    The outcome is recorded for the status page.
    """
    try:
        info = _import(kiosk, Path(source), today, allow_downgrade)
    except (ImportRefused, VerifyError) as exc:
        kiosk_state.record(kiosk.live, "import", False, str(exc))
        raise
    if info is not None:
        done = f"installed version {info.version} from {source}"
        kiosk_state.record(kiosk.live, "import", True, done, confirmed_on=info.built_on)
    return info


def _import(kiosk: Kiosk, source: Path, today: date, allow_downgrade: bool) -> BundleInfo | None:
    name = str(source)
    with locked(kiosk):
        try:
            size = source.stat().st_size
        except OSError:
            raise VerifyError(Refusal.MISSING, f"no bundle file at {name}") from None
        if size > kiosk.max_bytes:
            raise VerifyError(
                Refusal.TOO_LARGE,
                f"{name} is {size // (1024 * 1024)} MB, over this kiosk's "
                f"limit of {kiosk.max_bytes // (1024 * 1024)} MB",
            )
        tmp = fsutil.temp_path(kiosk.live, "import")
        try:
            # What is checked is the private copy, and it is what is installed.
            info = verify_bundle(source, kiosk.root(), today, tmp, name=name)
            crash_point("import-copied")
            if not check_newer(kiosk.current(), info, name, allow_downgrade):
                return None
            crash_point("import-verified")
            _install(kiosk, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        _prune(kiosk)
    return info


def install_assembled(
    kiosk: Kiosk, assembled: Path, seal: dict[str, Any], *, name: str, allow_downgrade: bool = False
) -> BundleInfo | None:
    """Install a bundle that sync assembled from a signed manifest's objects; None if live already.

    The manifest's signature vouches for `seal`; the file must carry exactly
    the content digest and facts it names. Call with the kiosk locked.
    """
    info = check_sqlite(assembled, seal, name=name)
    if not check_newer(kiosk.current(), info, name, allow_downgrade):
        return None
    crash_point("import-verified")
    _install(kiosk, assembled)
    _prune(kiosk)
    return info


def rollback(kiosk: Kiosk, today: date) -> BundleInfo:
    """Put the newest kept bundle that is still trusted back live, and drop it from the kept list."""
    with locked(kiosk):
        info = _rollback(kiosk, kiosk.root())
    kiosk_state.record(kiosk.live, "rollback", True, f"rolled back to version {info.version}")
    return info


def enforce_trust(kiosk: Kiosk) -> str | None:
    """Stop serving a live bundle whose key the root no longer trusts; return what was done, or None.

    It rolls back to the newest kept bundle that is signed by a trusted key;
    when there is none, the live bundle is moved aside and readers see that
    no guidance is loaded. Never an unsigned or untrusted bundle instead.
    """
    with locked(kiosk):
        current = kiosk.current()
        root = kiosk.root()
        if current is None or not current.signed or (root is not None and root.trusts(current.key_id)):
            return None
        try:
            info = _rollback(kiosk, root)
            done = f"key {current.key_id} is no longer trusted: rolled back to version {info.version}"
        except ImportRefused:
            quarantine = kiosk.live.parent / "untrusted-bundles"
            quarantine.mkdir(exist_ok=True)
            fsutil.replace(kiosk.live, quarantine / f"v{current.version}-{current.content_digest[:12]}.bundle")
            done = (
                f"key {current.key_id} is no longer trusted and no kept bundle is: "
                "the kiosk serves no guidance until a trusted bundle is imported"
            )
    kiosk_state.record(kiosk.live, "revoke", True, done)
    return done


def trust_root(kiosk: Kiosk, data: bytes, *, name: str, replace_root: bool = False) -> Root:
    """Make `data` this kiosk's root: the first one, the next in the chain, or (replace_root) a fresh start."""
    current = None if replace_root else _stored_root(kiosk)
    root = load_root(data, current, name=name)
    if current is not None and root.version == current.version and root.data == current.data:
        return root
    kiosk.trust.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write(kiosk.trust / ROOT_NAME, data)
    return root


def revoke_key(kiosk: Kiosk, key: str) -> None:
    """Revoke a key on this kiosk alone, at once (the publisher's next root should revoke it too)."""
    if not KEY_ID.match(key):
        raise ImportRefused(f"'{printable(key, 40)}' is not a key id (16 hexadecimal digits, see `waypost keys list`)")
    kiosk.trust.mkdir(parents=True, exist_ok=True)
    revoked = sorted(kiosk.revoked_here() | {key})
    fsutil.atomic_write(kiosk.trust / REVOKED_NAME, ("\n".join(revoked) + "\n").encode("ascii"))


def _stored_root(kiosk: Kiosk) -> Root | None:
    path = kiosk.trust / ROOT_NAME
    return load_root(path.read_bytes(), name=str(path)) if path.is_file() else None


def _rollback(kiosk: Kiosk, root: Root | None) -> BundleInfo:
    current = kiosk.current()
    for candidate in kiosk.previous():
        if current and candidate.name.endswith(_history_suffix(current)):
            candidate.unlink()  # the live bundle itself, kept twice by an interrupted install
            continue
        try:
            info = check_sqlite(candidate, name=candidate.name)
        except VerifyError:
            continue  # a damaged kept file is never served; try the next
        if not info.signed or root is None or not root.trusts(info.key_id):
            continue
        tmp = fsutil.temp_path(kiosk.live, "rollback")
        try:
            with candidate.open("rb") as src:
                fsutil.copy_synced(src, tmp)
            fsutil.replace(tmp, kiosk.live)
        finally:
            tmp.unlink(missing_ok=True)
        candidate.unlink()
        return info
    raise ImportRefused("there is no kept bundle signed by a key this kiosk still trusts")


def _install(kiosk: Kiosk, tmp: Path) -> None:
    current = kiosk.current()
    if current is not None:
        _archive(kiosk, current)
        crash_point("import-archived")
    fsutil.replace(tmp, kiosk.live)
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
    tmp = fsutil.temp_path(target)
    try:
        # A hard link costs no space and no time; copy where links are not possible.
        os.link(kiosk.live, tmp)
    except OSError:
        with kiosk.live.open("rb") as src:
            fsutil.copy_synced(src, tmp)
    fsutil.replace(tmp, target)


def _history_suffix(info: BundleInfo) -> str:
    return f"-v{info.version}-{info.content_digest[:12]}.bundle"


def _prune(kiosk: Kiosk) -> None:
    for old in kiosk.previous()[kiosk.keep :]:
        old.unlink(missing_ok=True)


@contextmanager
def locked(kiosk: Kiosk) -> Iterator[None]:
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
    """Return the live bundle's facts (None when there is none), the kept bundles and the kiosk's state."""
    current = kiosk.current()
    live = None
    if current is not None:
        try:
            root = kiosk.root()
        except VerifyError:
            root = None  # a damaged root is reported by `waypost keys list`, not here
        key = root.keys.get(current.key_id) if root else None
        live = current.as_dict() | {
            "publisher_name": key.key.name if key else None,
            "expired": current.expired(today),
            "trusted": bool(root and root.trusts(current.key_id)),
        }
    state = kiosk_state.read_state(kiosk.live)
    return {
        "live": live,
        "previous": [p.name for p in kiosk.previous()],
        "confirmed_on": state.get("confirmed_on"),
        "last": state.get("last"),
    }
