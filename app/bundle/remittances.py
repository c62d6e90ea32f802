"""Read the remittance prices a bundle holds: corridors, their trend, their ranked providers.

Country names come from CLDR through Babel in the reader's language; the
World Bank's English name is the fallback. No Flask here: the pages, the API
and the packs all call these functions.
"""

from __future__ import annotations

import json
import re
import sqlite3
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError

from app import remittance_method as method
from app.bundle.search import fold

NUMERIC = ("interbank", *(f"{a}_{k}" for a in ("cc1", "cc2") for k in ("amount", "fee", "rate", "margin", "total")))
PERIOD = re.compile(r"^(\d{4})Q([1-4])$")
KEY = re.compile(r"^[A-Z]{3}-[A-Z]{3}$")


@lru_cache(maxsize=32)
def _territories(lang: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(lang.replace("-", "_")).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def country_name(territory: str, lang: str, fallback: str) -> str:
    """Return a country's name in a language (CLDR), or the name the data gives."""
    return _territories(lang).get(territory) or fallback


def period(text: str) -> tuple[int, int]:
    """Return (year, quarter) from the bundle's `2025Q1`."""
    found = PERIOD.match(text)
    if not found:
        raise ValueError(f"not a quarter: {text!r}")
    return int(found[1]), int(found[2])


def source(conn: sqlite3.Connection) -> dict[str, str]:
    """Return where the prices come from (title, url, licence, attribution, taken, sample); empty without data."""
    return {row[0]: row[1] for row in conn.execute("SELECT key, value FROM remit_source")}


def _named(row: sqlite3.Row | dict, lang: str) -> dict[str, Any]:
    found = dict(row)
    found["source_label"] = country_name(found["source_territory"], lang, found["source_name"])
    found["destination_label"] = country_name(found["destination_territory"], lang, found["destination_name"])
    found["flags"] = json.loads(found["flags"])
    return found


def corridors(conn: sqlite3.Connection, lang: str) -> list[dict[str, Any]]:
    """Return every corridor with its country names in `lang`, sorted by those names."""
    rows = [_named(r, lang) for r in conn.execute("SELECT * FROM remit_corridors")]
    return sorted(rows, key=lambda c: (c["source_label"], c["destination_label"]))


def countries(conn: sqlite3.Connection, lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the (code, name) pairs people send from and send to, sorted by name in `lang`."""
    found = corridors(conn, lang)
    senders = {c["source_code"]: c["source_label"] for c in found}
    receivers = {c["destination_code"]: c["destination_label"] for c in found}
    return sorted(senders.items(), key=lambda x: x[1]), sorted(receivers.items(), key=lambda x: x[1])


def corridor(conn: sqlite3.Connection, key: str, lang: str) -> dict[str, Any] | None:
    """Return one corridor with its trend (cc1 average per quarter) and ranked providers, or None."""
    if not KEY.match(key):
        return None
    row = conn.execute("SELECT * FROM remit_corridors WHERE corridor = ?", (key,)).fetchone()
    if row is None:
        return None
    found = _named(row, lang)
    costs: dict[str, dict[str, Decimal]] = {}
    for p, amount, cost in conn.execute(
        "SELECT period, amount, cost FROM remit_costs WHERE corridor = ? ORDER BY period", (key,)
    ):
        costs.setdefault(p, {})[amount] = Decimal(cost)
    found["trend"] = [{"period": p, **values} for p, values in costs.items()]
    found["latest"] = costs.get(found["newest"], {})
    services = []
    for s in conn.execute("SELECT * FROM remit_services WHERE corridor = ? ORDER BY position", (key,)):
        item = dict(s)
        for name in NUMERIC:
            item[name] = None if item[name] is None else Decimal(item[name])
        item["arrives"] = method.arrives_for(item["cc1_amount"], item["cc1_fee"], item["cc1_rate"])
        services.append(item)
    found["services"] = services
    return found


def find_corridors(conn: sqlite3.Connection, query: str, langs: list[str], lang: str) -> list[dict[str, Any]]:
    """Return the corridors a query names a country of, in any of `langs` ("Afghanistan", "افغانستان")."""
    words = [w for w in fold(query).split() if len(w) > 1]
    if not words:
        return []
    found = []
    for c in corridors(conn, lang):
        names = {fold(c["source_name"]), fold(c["destination_name"])}
        for code in langs:
            names.add(fold(country_name(c["source_territory"], code, "")))
            names.add(fold(country_name(c["destination_territory"], code, "")))
        if all(any(w in n for n in names if n) for w in words):
            found.append(c)
    return found
