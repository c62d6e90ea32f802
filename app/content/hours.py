"""Opening hours from HSDS schedule rows, checked and turned into plain rules the bundle stores.

Three shapes of row come in:

- HSDS 2.0/3.0 `schedules.csv`: iCalendar RRULE parts (`freq`, `interval`,
  `byday`, `bymonthday`, `byweekno`, `byyearday`, `count`, `until`, `wkst`,
  `dtstart`) with `opens_at`/`closes_at` and `valid_from`/`valid_to`;
- HSDS 1.x `regular_schedules.csv`: `weekday`, `opens_at`, `closes_at`;
- HSDS 1.x `holiday_schedules.csv`: `closed`, `start_date`, `end_date`,
  `opens_at`, `closes_at`. Waypost reads this file in every layout: it is how
  a closure is written (`closed` true), since HSDS 3.0 cannot say "closed".

Times are local clock time in the place's IANA zone. A closing time before
the opening time is an overnight opening (22:00-06:00), not a mistake. The
rule format is the one `app.bundle.places` computes a week of hours from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

Report = Callable[[str, bool], None]
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Day names HSDS 1.x exports use in `weekday` (English names, short names, ISO numbers with 1 = Monday).
_WEEKDAY_NAMES = {
    **{name: code for code, name in zip(WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday", "friday",
                                                   "saturday", "sunday"), strict=True)},
    **{name[:3]: code for code, name in zip(WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday", "friday",
                                                       "saturday", "sunday"), strict=True)},
    **{str(i): code for i, code in enumerate(WEEKDAYS, start=1)},
    **{code.lower(): code for code in WEEKDAYS},
}  # fmt: skip
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}(?::?\d{2})?)?$")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?([A-Z]{2})$")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


def clock(value: str, key: str, report: Report) -> tuple[str | None, str | None]:
    """Return (HH:MM, offset suffix or None) of an HSDS time, reporting one that is not a clock time."""
    text = value.strip()
    if not text:
        return None, None
    m = _TIME.match(text)
    hour, minute = (int(m.group(1)), int(m.group(2))) if m else (99, 99)
    if not m or minute > 59 or hour > 24 or (hour == 24 and minute):
        report(f"{key}: '{text}' is not a clock time (HH:MM, 00:00 to 23:59)", False)
        return None, None
    return f"{hour:02d}:{minute:02d}", m.group(4)


def day(value: str, key: str, report: Report) -> str | None:
    """Return an ISO date (YYYY-MM-DD) or None, reporting one that is not a date."""
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        report(f"{key}: '{text}' is not a date (YYYY-MM-DD)", False)
        return None


def _offset_minutes(suffix: str) -> int:
    if suffix == "Z":
        return 0
    sign = -1 if suffix[0] == "-" else 1
    digits = suffix[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def _check_offset(minutes: int, zone: str, when: str | None, report: Report) -> None:
    """Warn when a schedule's UTC offset is not one the place's zone has (in winter or in summer)."""
    tz = ZoneInfo(zone)
    year = int(when[:4]) if when else 2026
    offsets = {
        int((datetime(year, month, 15, 12, tzinfo=tz).utcoffset() or timedelta()).total_seconds() // 60)
        for month in (1, 7)
    }
    if minutes not in offsets:
        report(f"timezone offset {minutes / 60:+g} h disagrees with {zone}; times are read as {zone} clock time", True)


def _byday(value: str, freq: str, report: Report) -> str | None:
    parts = [p.strip().upper() for p in value.split(",") if p.strip()]
    for part in parts:
        m = _BYDAY.match(part)
        if not m or m.group(2) not in WEEKDAYS:
            report(f"byday: unknown weekday '{part}' (use MO, TU, WE, TH, FR, SA, SU)", False)
            return None
        if m.group(1) and freq not in ("MONTHLY", "YEARLY"):
            report(f"byday: RFC 5545 allows a number before a day ('{part}') only with freq MONTHLY or YEARLY", False)
            return None
    return ",".join(parts) or None


def _rfc_forbids(parts: dict[str, str]) -> str | None:
    """Return why RFC 5545 forbids a combination of RRULE parts, or None."""
    freq = parts.get("FREQ", "")
    if "COUNT" in parts and "UNTIL" in parts:
        return "RFC 5545 forbids count and until in the same rule"
    if "BYMONTHDAY" in parts and freq == "WEEKLY":
        return "RFC 5545 forbids bymonthday with freq WEEKLY"
    if "BYYEARDAY" in parts and freq in ("DAILY", "WEEKLY", "MONTHLY"):
        return f"RFC 5545 forbids byyearday with freq {freq}"
    return None


def _more_parts(row: dict[str, str], parts: dict[str, str], report: Report) -> bool:
    """Add a row's numeric parts, week start and until to an RRULE; False when one is unusable."""
    for key in ("interval", "count", "bymonthday", "byweekno", "byyearday"):
        value = row.get(key, "").strip().replace(" ", "")
        if value:
            parts[key.upper()] = value.removesuffix(".0")
    wkst = row.get("wkst", "").strip().upper()
    if wkst:
        if wkst not in WEEKDAYS:
            report(f"wkst: unknown weekday '{wkst}'", False)
            return False
        parts["WKST"] = wkst
    until = day(row.get("until", ""), "until", report)
    if until:
        parts["UNTIL"] = until.replace("-", "") + "T235959"
    return True


def _rrule_text(row: dict[str, str], report: Report) -> str | None:
    """Return the RRULE of a 3.0 schedule row ('FREQ=WEEKLY;BYDAY=TH,FR'), or None when it has none."""
    freq = row.get("freq", "").strip().upper()
    byday = row.get("byday", "").strip()
    if not freq and not byday:
        return None
    freq = freq or "WEEKLY"
    if freq not in ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        report(f"freq: '{row.get('freq')}' is not an RFC 5545 frequency (HSDS uses WEEKLY or MONTHLY)", False)
        return None
    parts = {"FREQ": freq}
    if byday:
        found = _byday(byday, freq, report)
        if found is None:
            return None
        parts["BYDAY"] = found
    if not _more_parts(row, parts, report):
        return None
    problem = _rfc_forbids(parts)
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    if problem is None:
        try:
            rrule.rrulestr(text, dtstart=datetime(2026, 1, 5))
        except (ValueError, TypeError) as exc:
            problem = f"not a valid RRULE ({exc})"
    if problem:
        report(problem, False)
        return None
    return text


def _hours(row: dict[str, str], zone: str, report: Report, when: str | None) -> tuple[str | None, str | None]:
    opens, opens_zone = clock(row.get("opens_at", ""), "opens_at", report)
    closes, closes_zone = clock(row.get("closes_at", ""), "closes_at", report)
    offset = row.get("timezone", "").strip()
    suffix = opens_zone or closes_zone
    try:
        minutes = round(float(offset) * 60) if offset else (_offset_minutes(suffix) if suffix else None)
    except ValueError:
        report(f"timezone: '{offset}' is not a UTC offset in hours", True)
        minutes = None
    if minutes is not None:
        _check_offset(minutes, zone, when, report)
    if closes == "24:00":
        closes = "23:59"
    return opens, closes


def rule(row: dict[str, str], kind: str, zone: str, today: date, report: Report) -> dict[str, Any] | None:
    """Return the stored rule of one schedule row of `kind` (schedules, regular, holiday), or None."""
    base: dict[str, Any] = {"rrule": None, "dtstart": None, "holiday": kind == "holiday", "closed": False}
    base["description"] = row.get("description", "").strip() or row.get("notes", "").strip()
    if kind == "holiday":
        base["valid_from"] = day(row.get("start_date", ""), "start_date", report)
        base["valid_to"] = day(row.get("end_date", ""), "end_date", report) or base["valid_from"]
        closed = row.get("closed", "").strip().lower()
        if closed not in _TRUE | _FALSE:
            report(f"closed: '{row.get('closed')}' is not true or false", False)
        base["closed"] = closed in _TRUE
        if not base["valid_from"]:
            report("missing required value 'start_date'", False)
            return None
    else:
        base["valid_from"] = day(row.get("valid_from", ""), "valid_from", report)
        base["valid_to"] = day(row.get("valid_to", ""), "valid_to", report)
    base["opens"], base["closes"] = _hours(row, zone, report, base["valid_from"])
    if kind == "regular":
        code = _WEEKDAY_NAMES.get(row.get("weekday", "").strip().lower())
        if code is None:
            report(f"weekday: unknown weekday '{row.get('weekday', '')}'", False)
            return None
        base["rrule"] = f"FREQ=WEEKLY;BYDAY={code}"
    elif kind == "schedules":
        base["dtstart"] = day(row.get("dtstart", ""), "dtstart", report)
        base["rrule"] = _rrule_text(row, report)
        if base["rrule"] is None and any(row.get(k, "").strip() for k in ("freq", "byday")):
            return None
    if (base["opens"] is None) != (base["closes"] is None) and not base["closed"]:
        report("a schedule needs both opens_at and closes_at", False)
        return None
    if base["valid_to"] and base["valid_to"] < today.isoformat():
        report(f"this schedule ended on {base['valid_to']}; it is not shown as current hours", True)
    return base
