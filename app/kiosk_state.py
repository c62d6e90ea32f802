"""What a kiosk knows about itself beyond its bundle: when its guidance was last confirmed, its last update.

Distribution code (import, sync, rollback, revoke) writes one small JSON file
beside the live bundle; the web layer only reads it, so pages can say how
fresh the guidance is without importing any installing code.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app import fsutil

STATE_NAME = "kiosk-state.json"
# The trusted root's file in the trust folder (trust_folder): a kiosk with one never serves unsigned guidance.
ROOT_NAME = "root.json"
LOG_NAME = "kiosk-log.txt"
HISTORY_FOLDER = "previous-bundles"
# About 2,000 one-line outcomes: years of nightly syncs, and still a small file.
MAX_LOG_BYTES = 256 * 1024
MAX_LINE = 500


def state_path(live: Path) -> Path:
    """Return where the state of the kiosk serving `live` is kept."""
    return Path(live).with_name(STATE_NAME)


def read_state(live: Path) -> dict[str, Any]:
    """Return the kiosk's state, or {} when there is none (or it is unreadable: it is advice, not trust)."""
    try:
        data = json.loads(state_path(live).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(live: Path, action: str, ok: bool, message: str, *, confirmed_on: date | None = None) -> bool:
    """Record the outcome of an import, sync, rollback or revocation (and, if given, a freshness date).

    Best effort: on a full disk the outcome cannot be written, and that must
    not turn a clear refusal into a crash. Returns whether it was written.
    """
    state = read_state(live)
    state["last"] = {"action": action, "ok": ok, "message": message, "at": now().isoformat(timespec="seconds")}
    if confirmed_on is not None:
        previous = parse_date(state.get("confirmed_on"))
        state["confirmed_on"] = max(confirmed_on, previous or confirmed_on).isoformat()
    try:
        Path(live).parent.mkdir(parents=True, exist_ok=True)
        fsutil.atomic_write(state_path(live), json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"))
        append_log(live, state["last"])
    except OSError:
        return False
    return True


def log_path(live: Path) -> Path:
    """Return the log of every import, sync, rollback and revocation of the kiosk serving `live`."""
    return Path(live).with_name(LOG_NAME)


def append_log(live: Path, entry: dict[str, Any]) -> None:
    """Add one outcome as one line (`TIME ACTION ok|failed MESSAGE`), keeping the log under MAX_LOG_BYTES.

    One write() on a file opened with O_APPEND: a line is never interleaved
    with another process's, and a power cut loses at most the line being
    written. A log grown too large keeps its newer half, rewritten atomically.
    """
    message = " ".join(str(entry["message"]).split())[:MAX_LINE]
    line = f"{entry['at']} {entry['action']} {'ok' if entry['ok'] else 'failed'} {message}\n".encode()
    path = log_path(live)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size + len(line) > MAX_LOG_BYTES:
        kept = path.read_bytes()[-(MAX_LOG_BYTES // 2) :]
        fsutil.atomic_write(path, kept[kept.find(b"\n") + 1 :])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_log(live: Path, count: int = 20) -> list[dict[str, Any]]:
    """Return the newest `count` outcomes of the kiosk's log, newest first."""
    try:
        lines = log_path(live).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in reversed(lines[-count:]):
        parts = line.split(" ", 3)
        if len(parts) == 4:
            found.append({"at": parts[0], "action": parts[1], "ok": parts[2] == "ok", "message": parts[3]})
    return found


def kept_bundles(live: Path) -> list[str]:
    """Return the names of the bundles kept for rollback beside `live`, newest first."""
    folder = Path(live).parent / HISTORY_FOLDER
    try:
        return sorted((p.name for p in folder.iterdir() if p.name.endswith(".bundle")), reverse=True)
    except OSError:
        return []


def trust_folder(config: dict[str, Any], instance_path: str | Path) -> Path:
    """Return the kiosk's trust folder: TRUST_DIR, or `trust/` in the instance folder."""
    return Path(config.get("TRUST_DIR") or Path(instance_path) / "trust")


def key_name(trust_dir: Path, key_id: str | None) -> str | None:
    """Return the name the kiosk's trusted root gives a key ("Refugee Aid Calais"), for display only.

    The root was verified when `waypost keys trust` or a sync stored it; a name
    shown on a page vouches for nothing, so it is read here without checking.
    """
    try:
        keys = json.loads((Path(trust_dir) / "root.json").read_text(encoding="utf-8"))["signed"]["keys"]
        name = keys[key_id]["name"] if key_id else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) else None


def confirmed_on(live: Path, built_on: date | None) -> date | None:
    """Return the last day the guidance was confirmed current: its build, or a later signed timestamp."""
    found = [d for d in (parse_date(read_state(live).get("confirmed_on")), built_on) if d is not None]
    return max(found) if found else None


def now() -> datetime:
    """Return the current time in UTC, the calendar every date Waypost signs or checks is kept in."""
    return datetime.now(UTC)


def kiosk_today(*known: date | None) -> date:
    """Return today's date in UTC, never earlier than the newest signed date the kiosk holds.

    A Raspberry Pi has no clock that survives a power cut; it may boot in
    1970. A date it has seen signed is a floor for what "today" can be.
    """
    return max([now().date(), *(d for d in known if d is not None)])


def parse_date(value: object) -> date | None:
    """Return the date an ISO `YYYY-MM-DD...` value starts with, or None for anything else."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
