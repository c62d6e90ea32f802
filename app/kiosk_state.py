"""What a kiosk knows about itself beyond its bundle: when its guidance was last confirmed, its last update.

Distribution code (import, sync, rollback, revoke) writes one small JSON file
beside the live bundle; the web layer only reads it, so pages can say how
fresh the guidance is without importing any installing code.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app import fsutil

STATE_NAME = "kiosk-state.json"


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
    except OSError:
        return False
    return True


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
