"""Updates from a USB stick: notice a newly mounted stick holding Waypost guidance and install it.

A small polling loop rather than a systemd path unit: a path unit cannot
say "any new mount below /media", and one that matches a glob starts again
and again for as long as the stick stays in. Reading /proc/self/mountinfo
every few seconds costs nothing, sees sticks mounted by the desktop
(`/media/<user>/<label>`), by the udev rule Waypost ships
(`/media/waypost-usb-sdb1`) or by hand (`/mnt/...`), and handles each mount
once.

Nothing on the stick is trusted: a hub folder goes through `sync` and a
bundle file through `import_bundle`, exactly as typed by an operator, so
the signature, the trust root, the size limit and "only newer" all apply.
A root.json on the stick is never trusted by itself (only `waypost keys
trust` does that); a hub's newer roots count only when the trusted root
chains to them, as in every sync. Each outcome lands in the kiosk's state
and log, which the status page shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app import kiosk_state
from app.distribution.kiosk import ImportRefused, Kiosk, import_bundle
from app.distribution.publish import MANIFEST
from app.distribution.sync import SyncError, sync
from app.refusal import VerifyError

MOUNTINFO = Path("/proc/self/mountinfo")
MOUNT_ROOTS = (Path("/media"), Path("/mnt"), Path("/run/media"))
# Where on a stick guidance is looked for: its top folder and a `waypost/` folder, no deeper.
FOLDERS = ("", "waypost")
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Mount:
    """One mounted file system: its kernel mount id, device and where it is mounted."""

    id: int
    device: str
    path: Path


def mounts(mountinfo: Path = MOUNTINFO, roots: Iterable[Path] = MOUNT_ROOTS) -> list[Mount]:
    """Return the file systems mounted below one of `roots`, as the kernel lists them."""
    found = []
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or not fields[0].isdigit():
            continue
        # Spaces and other bytes in a mount point are octal escapes (`\040`).
        path = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4]))
        if any(path != root and path.is_relative_to(root) for root in roots):
            found.append(Mount(int(fields[0]), fields[2], path))
    return found


def find_guidance(mount: Path) -> tuple[Path | None, list[Path]]:
    """Return the hub folder and the bundle files a stick holds (in its top folder or `waypost/`)."""
    hub = None
    bundles: list[Path] = []
    for name in FOLDERS:
        folder = mount / name if name else mount
        if folder.is_symlink() or not folder.is_dir():
            continue
        if hub is None and (folder / MANIFEST).is_file():
            hub = folder
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink() and (child / MANIFEST).is_file() and hub is None:
                hub = child
            elif child.suffix == ".bundle" and child.is_file() and not child.is_symlink():
                bundles.append(child)
    # The newest file first: the first one that installs is the one meant.
    bundles.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return hub, bundles


def update_from(kiosk: Kiosk, mount: Path, today: date) -> str:
    """Install what one stick holds: sync its hub, or else import its newest bundle that verifies.

    Returns a one-line outcome; the kiosk state and log record each attempt.
    """
    try:
        hub, bundles = find_guidance(mount)
    except OSError as exc:  # pulled out while being read, or a damaged file system
        hub, bundles = None, []
        outcome = f"{mount}: cannot read this stick ({exc.strerror or exc})"
    else:
        outcome = f"{mount}: no Waypost guidance on this stick (a hub folder, or a .bundle file)"
    if hub is None and not bundles:
        kiosk_state.record(kiosk.live, "usb", False, outcome)
        return outcome
    if hub is not None:
        try:
            info = sync(kiosk, str(hub), today)
        except (SyncError, ImportRefused, VerifyError, OSError) as exc:
            return f"{mount}: not updated: {exc}"
        return f"{mount}: already up to date" if info is None else f"{mount}: installed version {info.version}"
    refusals = []
    for path in bundles:
        try:
            info = import_bundle(kiosk, path, today)
        except (ImportRefused, VerifyError, OSError) as exc:
            refusals.append(str(exc))
            continue
        return f"{mount}: already installed" if info is None else f"{mount}: installed version {info.version}"
    return f"{mount}: not updated: " + "; ".join(refusals)


def watch(
    kiosk: Kiosk,
    today: Callable[[], date],
    report: Callable[[str], None],
    *,
    mountinfo: Path = MOUNTINFO,
    roots: Iterable[Path] = MOUNT_ROOTS,
    interval: float = POLL_SECONDS,
    rounds: int | None = None,
) -> None:
    """Poll the mount table; update from each stick once, when it appears (rounds: stop after that many polls).

    Sticks already in at start are handled too: a kiosk booted with its
    update stick in place installs it.
    """
    roots = tuple(roots)
    handled: set[tuple[int, str, Path]] = set()
    done = 0
    while rounds is None or done < rounds:
        current = {(m.id, m.device, m.path) for m in mounts(mountinfo, roots)}
        for key in sorted(current - handled, key=lambda k: k[0]):
            report(update_from(kiosk, key[2], today()))
        # A stick pulled out and put back is a new mount, handled again.
        handled = current
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
