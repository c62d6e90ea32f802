"""Search local help: an FTS5 index over the folded names and texts of places and services, in every language.

The index is derived, like the articles' (`schema.FTS_TABLES`, `build.search_rows`):
`write_index` fills it from the places and services rows inside `write_bundle`,
on the publisher's machine and on a kiosk that assembles synced rows alike, so
neither the content digest nor the hub objects carry a second copy of the text.
Texts are folded with the articles' `search.fold` and queries reduced to plain
words by `search.query_terms`, so "قانونيه" finds "قانونية" and "resume" finds
"résumé" here as in articles, and no reader's input is parsed as FTS5 syntax.

Every language a service has is indexed, whatever the page's language: a
reader on an Arabic page finds a service by its Arabic name, and one whose text
exists only in English is still found by its English words (and shown in
English, marked with its own lang). Results are ranked by bm25 (a match in a
name counts four times one in a description) and cut to the limit before any
row's JSON is read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from app.bundle.places import _short, places
from app.bundle.schema import SERVICE_INDEX_SQL, SERVICE_KEYS_SQL
from app.bundle.search import fold, match_expression, query_terms

# The texts a service is found by: in its title column (names) and its body column.
TITLE_TEXTS = ("name", "alternate_name")
BODY_TEXTS = ("description",)
PLACE_LIMIT = 10


def service_text(service: dict[str, Any]) -> tuple[str, str]:
    """Return a service's (title, body) as the index holds them: every language's names, then the rest, folded."""
    languages = sorted(service["texts"].items())
    title = [t[key] for _, t in languages for key in TITLE_TEXTS if t.get(key)]
    body = [t[key] for _, t in languages for key in BODY_TEXTS if t.get(key)]
    if service.get("organization") and service["organization"].get("name"):
        body.append(service["organization"]["name"])
    for location in service["locations"]:
        body += [location["name"], " ".join(location["address"])]
    return fold("\n".join(title)), fold("\n".join(p for p in body if p))


def index_rows(conn: sqlite3.Connection) -> Iterator[tuple[int, str, str, str, str]]:
    """Yield the index's rows (key, place, service id or "", title, body) from a bundle's places and services.

    The one definition of what is indexed, in a fixed order, so a kiosk's index is the publisher's:
    the places are keys 1 to the number of places, so a key range tells a place from a service.
    """
    key = 0
    for row in conn.execute("SELECT id, names FROM places ORDER BY id"):
        key += 1
        names = sorted(json.loads(row[1]).items())
        yield key, row[0], "", fold("\n".join(name for _, name in names)), ""
    for row in conn.execute("SELECT place, id, data FROM services ORDER BY place, id"):
        key += 1
        title, body = service_text(json.loads(row[2]))
        yield key, row[0], row[1], title, body


def write_index(conn: sqlite3.Connection) -> None:
    """Create and fill the local-help index of a bundle being written (its places and services are in)."""
    conn.execute(SERVICE_KEYS_SQL)
    conn.execute(SERVICE_INDEX_SQL)
    for key, place, service_id, title, body in index_rows(conn):
        conn.execute("INSERT INTO service_keys (key, place, id) VALUES (?, ?, ?)", (key, place, service_id))
        conn.execute("INSERT INTO service_index (rowid, title, body) VALUES (?, ?, ?)", (key, title, body))
    conn.execute("INSERT INTO service_index (service_index) VALUES ('optimize')")


_TOP = """
    WITH top AS MATERIALIZED (
        SELECT rowid AS key, bm25(service_index, 4.0, 1.0) AS score FROM service_index
        WHERE service_index MATCH :match AND rowid BETWEEN :first AND :last ORDER BY score, rowid LIMIT :limit
    )
    SELECT k.place, k.id, s.data FROM top JOIN service_keys k ON k.key = top.key
    LEFT JOIN services s ON s.place = k.place AND s.id = k.id AND k.id != ''
    ORDER BY top.score, top.key
"""


def search(conn: sqlite3.Connection, query: str, lang: str, source: str, limit: int = 20) -> dict[str, Any]:
    """Find places and services whose names or texts, in any language, hold every word of a reader's query.

    Returns {"terms", "places", "services", "total"}: the places matched (by
    name), up to `limit` services with their place (name, sample flag) and
    the count of every service matched. A service's name is in lang when it
    has one, else in its own language, marked with it.
    """
    terms = query_terms(query)
    empty: dict[str, Any] = {"terms": terms, "places": [], "services": [], "total": 0}
    if not terms:
        return empty
    match = match_expression(terms)
    known = {p["id"]: p for p in places(conn, lang, source)}
    found = dict(empty)
    named = conn.execute(_TOP, {"match": match, "first": 1, "last": len(known), "limit": PLACE_LIMIT})
    found["places"] = [_place(known[row[0]]) for row in named if row[0] in known]
    count = conn.execute(
        "SELECT count(*) FROM service_index WHERE service_index MATCH ? AND rowid > ?", (match, len(known))
    )
    found["total"] = count.fetchone()[0]
    if found["total"]:
        rows = conn.execute(_TOP, {"match": match, "first": len(known) + 1, "last": 2**62, "limit": limit})
        found["services"] = [
            {**_short(data, lang, source), "lang": data["lang"], "place": _place(known[row[0]])}
            for row in rows
            if row[2] is not None and row[0] in known
            for data in (json.loads(row[2]),)
        ]
    return found


def _place(place: dict[str, Any]) -> dict[str, Any]:
    return {"id": place["id"], "name": place["name"], "sample": place["sample"], "country": place["country"]}
