"""Read places, emergency numbers and services from a bundle, and compute a service's week of opening hours.

Opening hours are computed for the dates of the place's own calendar: the
caller passes "today" as the date in the place's IANA zone (the web layer
takes it from `kiosk_state.now()` in that zone, never earlier than the
kiosk's newest signed date). Times are local clock times there, so a DST
change moves nothing: 09:00 stays 09:00 on both sides of it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from dateutil import rrule

from app.bundle import place_tree

# Service texts shown on a page, in the order the page shows them.
TEXTS = (
    "name", "alternate_name", "description", "eligibility_description", "application_process",
    "fees_description", "interpretation_services", "alert",
)  # fmt: skip
_ANCHOR = date(2000, 1, 3)  # a Monday: where a rule without dtstart starts counting (weekly, monthly rules)
PAGE_SIZE = 50
# Services without JavaScript: by category, then by name in the directory's own language, ignoring (ASCII) case.
SERVICE_ORDER = "category, name COLLATE NOCASE, id"


def _pick(texts: dict[str, str], lang: str, source: str) -> dict[str, str]:
    """Return {text, lang}: the reader's language when there is one, else the source, marked with its language."""
    if texts.get(lang):
        return {"text": texts[lang], "lang": lang}
    if texts.get(source):
        return {"text": texts[source], "lang": source}
    code, text = next(iter(sorted(texts.items())), (source, ""))
    return {"text": text, "lang": code}


def places(conn: sqlite3.Connection, lang: str, source: str) -> list[dict[str, Any]]:
    """Return every place, named in lang (or the source language), in their order."""
    found = []
    for row in conn.execute("SELECT * FROM places ORDER BY position"):
        place = dict(row)
        place["name"] = _pick(json.loads(place.pop("names")), lang, source)
        place["contact"] = _contact(json.loads(place["contact"]), lang, source)
        place["sample"] = bool(place["sample"])
        found.append(place)
    return found


def _contact(stored: dict[str, Any], lang: str, source: str) -> dict[str, Any]:
    """Return a place's own contact as pages show it: its name and hours in lang where given, else as written."""
    if not stored:
        return {}
    texts = {key: _pick(stored[key], lang, source) if stored.get(key) else None for key in ("name", "hours")}
    return {**stored, **texts}


def emergency_numbers(conn: sqlite3.Connection, place_id: str, lang: str, source: str) -> list[dict[str, Any]]:
    """Return a place's own emergency numbers, in their order, named in lang."""
    return [
        {**dict(row), "name": _pick(json.loads(row["names"]), lang, source)}
        for row in conn.execute("SELECT * FROM emergency_numbers WHERE place = ? ORDER BY position", (place_id,))
    ]


def place(conn: sqlite3.Connection, place_id: str, lang: str, source: str) -> dict[str, Any] | None:
    """Return one place with its emergency numbers, its parents and places inside, and its category counts, or None.

    A place without numbers of its own gets its nearest parent's, named in `emergency_from`.
    """
    every = places(conn, lang, source)
    found = next((p for p in every if p["id"] == place_id), None)
    if found is None:
        return None
    found["ancestors"] = place_tree.ancestors(every, found)
    found["children"] = place_tree.children(every, place_id)
    found["emergency"] = emergency_numbers(conn, place_id, lang, source)
    found["emergency_from"] = None
    for parent in reversed(found["ancestors"] if not found["emergency"] else []):
        found["emergency"] = emergency_numbers(conn, parent["id"], lang, source)
        if found["emergency"]:
            found["emergency_from"] = {"id": parent["id"], "name": parent["name"]}
            break
    counts = conn.execute("SELECT category, count(*) FROM services WHERE place = ? GROUP BY category", (place_id,))
    found["counts"] = dict(counts.fetchall())
    return found


def services(
    conn: sqlite3.Connection, place_id: str, lang: str, source: str, category: str | None = None,
    limit: int | None = None, offset: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """Return a place's services in short form (name, organisation, free), by category and name."""
    sql = "SELECT id, category, data FROM services WHERE place = ?"
    params: list[Any] = [place_id]
    if category is not None:
        sql += " AND category = ?"
        params.append(category)
    # By name as the directory writes it, ignoring case ("bread" before "Food"); SERVICE_ORDER.
    sql += f" ORDER BY {SERVICE_ORDER}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return [_short(json.loads(row["data"]), lang, source) for row in conn.execute(sql, params)]


def _short(data: dict[str, Any], lang: str, source: str) -> dict[str, Any]:
    texts = data["texts"]
    return {
        "id": data["id"], "category": data["category"], "free": data["free"], "status": data["status"],
        "name": _pick({code: t.get("name", "") for code, t in texts.items() if t.get("name")}, lang, data["lang"]),
        "organization": (data.get("organization") or {}).get("name", ""),
        "locations": [{"latitude": x["latitude"], "longitude": x["longitude"]} for x in data["locations"]],
    }  # fmt: skip


def service(conn: sqlite3.Connection, place_id: str, service_id: str, lang: str, today: date) -> dict[str, Any] | None:
    """Return one service in full, its texts in lang where translated, and its hours for the 7 days from today."""
    row = conn.execute("SELECT data FROM services WHERE place = ? AND id = ?", (place_id, service_id)).fetchone()
    if row is None:
        return None
    data = json.loads(row["data"])
    texts = data["texts"]
    data["text"] = {
        key: _pick({code: t[key] for code, t in texts.items() if t.get(key)}, lang, data["lang"])
        for key in TEXTS
        if any(t.get(key) for t in texts.values())
    }
    data["week"] = week(data["schedules"], today)
    data["notes"] = [r["description"] for r in data["schedules"] if not r["holiday"] and r["description"]]
    return data


def raw_services(conn: sqlite3.Connection, place_id: str) -> list[dict[str, Any]]:
    """Return every service of a place as stored (for the HSDS export and the place pack)."""
    rows = conn.execute(f"SELECT data FROM services WHERE place = ? ORDER BY {SERVICE_ORDER}", (place_id,))
    return [json.loads(row["data"]) for row in rows]


@lru_cache(maxsize=4096)
def _rule(text: str, anchor: date) -> rrule.rrule:
    return rrule.rrulestr(text, dtstart=datetime.combine(anchor, datetime.min.time()))  # type: ignore[return-value]


def _occurs(r: dict[str, Any], day: date) -> bool:
    if r["valid_from"] and day.isoformat() < r["valid_from"]:
        return False
    if r["valid_to"] and day.isoformat() > r["valid_to"]:
        return False
    if r["rrule"] is None:
        # A rule without recurrence is a one-day opening when its validity is exactly that day.
        return bool(r["valid_from"]) and r["valid_from"] == r["valid_to"] == day.isoformat()
    anchor = date.fromisoformat(r["dtstart"] or r["valid_from"] or _ANCHOR.isoformat())
    if day < anchor:
        return False
    start = datetime.combine(day, datetime.min.time())
    return _rule(r["rrule"], anchor).after(start, inc=True) == start


def _slot(r: dict[str, Any]) -> dict[str, Any]:
    return {"opens": r["opens"], "closes": r["closes"], "overnight": r["closes"] < r["opens"]}


def day_hours(rules: list[dict[str, Any]], day: date) -> dict[str, Any]:
    """Return a day's hours: a holiday row covering it wins (closed, or its own hours); else the regular rules."""
    holidays = [r for r in rules if r["holiday"] and r["valid_from"] <= day.isoformat() <= r["valid_to"]]
    if holidays:
        closed = [r for r in holidays if r["closed"]]
        notes = [r["description"] for r in (closed or holidays) if r["description"]]
        if closed:
            return {"closed": True, "hours": [], "notes": notes, "exception": True}
        slots = sorted((_slot(r) for r in holidays if r["opens"]), key=lambda s: s["opens"])
        return {"closed": not slots, "hours": slots, "notes": notes, "exception": True}
    slots = sorted((_slot(r) for r in rules if not r["holiday"] and r["opens"] and _occurs(r, day)),
                   key=lambda s: s["opens"])  # fmt: skip
    return {"closed": not slots, "hours": slots, "notes": [], "exception": False}


def week(rules: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Return the 7 days from today with their hours; an empty list when the service has no hours at all."""
    if not any(r["opens"] or r["closed"] for r in rules):
        return []
    days = []
    for n in range(7):
        day = today + timedelta(days=n)
        days.append({"date": day.isoformat(), "weekday": day.weekday(), "today": n == 0, **day_hours(rules, day)})
    return days
