"""A hub's objects: how a bundle's rows are cut into objects, and put back together.

One object for the languages and topics, one per article, one per language's
glossary, one per place (with its emergency numbers) and per service, one per
price corridor and one for the prices' source: a small change in the content
moves a small object. The search index is not shipped: a kiosk derives it
from the rows (`build.search_rows`) through the same `write_bundle`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.bundle import read as bundle
from app.bundle.build import write_bundle
from app.bundle.schema import CONTENT_META, canonical, logical_rows, seal_meta


@dataclass(frozen=True)
class Piece:
    """One object of a bundle: its name in the manifest, its JSON, and its article row id."""

    name: str
    raw: bytes
    row_id: int | None = None

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def pieces(conn: sqlite3.Connection) -> list[Piece]:
    """Split a bundle's rows into the objects a manifest lists, in a fixed order."""
    meta = bundle.meta(conn)
    site = {
        "meta": {key: meta.get(key) for key in CONTENT_META},
        "languages": _select(conn, "SELECT * FROM languages ORDER BY code"),
        "topics": _select(conn, "SELECT * FROM topics ORDER BY slug"),
        "topic_names": _select(conn, "SELECT * FROM topic_names ORDER BY topic, lang"),
    }
    found = [Piece("site", canonical(site))]
    # Row ids live in the manifest, not the objects: adding one article shifts
    # the ids of others, and that must not make their objects new.
    # The search index is not shipped: the kiosk derives it from these rows (build.search_rows).
    for article in logical_rows(conn, "articles", "id"):
        row_id = article.pop("id")
        found.append(Piece(f"article/{article['lang']}/{article['slug']}", canonical(article), row_id))
    for (lang,) in conn.execute("SELECT DISTINCT lang FROM glossary ORDER BY lang"):
        terms = _select(conn, "SELECT * FROM glossary WHERE lang = ? ORDER BY id", (lang,))
        found.append(Piece(f"glossary/{lang}", canonical(terms)))
    return found + remittance_pieces(conn) + place_pieces(conn)


def place_pieces(conn: sqlite3.Connection) -> list[Piece]:
    found = []
    # Local help: one object per place (with its emergency numbers) and one per service,
    # so a changed phone number moves one small object.
    for place in _select(conn, "SELECT * FROM places ORDER BY id"):
        numbers = _select(conn, "SELECT * FROM emergency_numbers WHERE place = ? ORDER BY position", (place["id"],))
        found.append(Piece(f"place/{place['id']}", canonical({"place": place, "emergency": numbers})))
    # The service index is not shipped either: write_bundle derives it (service_search.index_rows).
    for service in _select(conn, "SELECT * FROM services ORDER BY place, id"):
        found.append(Piece(f"service/{service['place']}/{service['id']}", canonical(service)))
    return found


def remittance_pieces(conn: sqlite3.Connection) -> list[Piece]:
    """Return one object for the prices' source and one per corridor: a new quarter moves only changed corridors."""
    source = _select(conn, "SELECT * FROM remit_source ORDER BY key")
    found = [Piece("remittances/source", canonical(source))] if source else []
    for corridor in _select(conn, "SELECT * FROM remit_corridors ORDER BY corridor"):
        key = (corridor["corridor"],)
        costs = _select(conn, "SELECT * FROM remit_costs WHERE corridor = ? ORDER BY period, amount", key)
        services = _select(conn, "SELECT * FROM remit_services WHERE corridor = ? ORDER BY position", key)
        found.append(Piece(f"corridor/{corridor['corridor']}", canonical([corridor, costs, services])))
    return found


def assemble(manifest: dict[str, Any], raw_objects: dict[str, bytes], out: Path) -> str:
    """Write the bundle a manifest describes from its objects' JSON; return its content digest.

    The caller checks the result: its digest must be the one the publisher signed.
    """
    rows: dict[str, list[dict[str, Any]]] = {
        "meta": [], "languages": [], "topics": [], "topic_names": [], "articles": [], "glossary": [],
        "remit_source": [], "remit_corridors": [], "remit_costs": [], "remit_services": [],
        "places": [], "emergency_numbers": [], "services": [],
    }  # fmt: skip
    for entry in manifest["objects"]:
        data = json.loads(raw_objects[entry["sha256"]])
        name = entry["name"]
        if name == "site":
            rows["meta"] = [{"key": k, "value": v} for k, v in data["meta"].items()]
            for table in ("languages", "topics", "topic_names"):
                rows[table] = data[table]
        elif name.startswith("article/"):
            rows["articles"].append({"id": entry["row_id"], **data})
        elif name == "remittances/source":
            rows["remit_source"] = data
        elif name.startswith("corridor/"):
            corridor, costs, services = data
            rows["remit_corridors"].append(corridor)
            rows["remit_costs"].extend(costs)
            rows["remit_services"].extend(services)
        elif name.startswith("place/"):
            rows["places"].append(data["place"])
            rows["emergency_numbers"].extend(data["emergency"])
        elif name.startswith("service/"):
            rows["services"].append(data)
        else:
            rows["glossary"].extend(data)
    seal = manifest["bundle"]
    stored = seal_meta(seal["bundle_version"], seal["expires"], seal["key_id"], seal["publisher"])
    return write_bundle(rows, out, seal=lambda _digest, _built: stored, built_at=seal["built_at"])


def _select(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]
