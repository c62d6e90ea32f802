"""How current the live guidance is, as readers are told: expired, or not confirmed for a while.

Read-only: it looks at the live bundle's own signed dates and the small state
file that installing and syncing leave beside it (kiosk_state.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app import kiosk_state


@dataclass(frozen=True)
class Freshness:
    """What readers should be told about the age of the guidance (None: nothing to tell)."""

    today: date
    confirmed_on: date | None
    expired_on: date | None
    stale: bool

    @property
    def notice(self) -> bool:
        return self.stale or self.expired_on is not None


def stamp(live: Path, state: tuple[int, ...] | None = None) -> tuple:
    """Return what a page's freshness depends on beyond the bundle: the UTC date and the kiosk-state file.

    Two requests with the same bundle and the same stamp show the same
    notice and the same "today", so pages may be cached under it. `state`
    is the kiosk-state file's identity when the caller has looked already
    (live.Watch); otherwise the file is looked at now.
    """
    if state is None:
        try:
            found = kiosk_state.state_path(live).stat()
            state = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
        except OSError:
            state = ()
    return (kiosk_state.now().date().isoformat(), state)


def freshness(live: Path, meta: dict[str, str], max_age_days: int) -> Freshness:
    """Return the freshness of the bundle at `live`, whose metadata is `meta`.

    Guidance counts as confirmed on the day it was built, or on the day a
    hub's signed timestamp last vouched for it, whichever is later; after
    `max_age_days` without confirmation readers see when that was. "Today" is
    never earlier than a date the kiosk has seen signed (see kiosk_today).
    """
    built_on = kiosk_state.parse_date(meta.get("built_at"))
    confirmed = kiosk_state.confirmed_on(live, built_on)
    today = kiosk_state.kiosk_today(confirmed)
    expires = kiosk_state.parse_date(meta.get("expires"))
    stale = confirmed is not None and (today - confirmed).days > max_age_days
    return Freshness(today, confirmed, expires if expires is not None and expires < today else None, stale)
