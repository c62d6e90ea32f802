"""Places inside places (a city in a country): the list as a tree, a place's parents, and what it inherits.

A city without emergency numbers of its own shows its nearest parent's (the
country's 112): the numbers work there too, and the page says whose they are.
"""

from __future__ import annotations

from typing import Any

from app.bundle.search import fold


def children(places: list[dict[str, Any]], parent: str | None) -> list[dict[str, Any]]:
    """Return the places directly inside `parent` (None: the places inside none), by name in the reader's language."""
    ids = {p["id"] for p in places}
    # A parent the bundle lacks cannot pass `waypost check`; such a place is listed at the top all the same.
    found = [p for p in places if (p["parent"] if p["parent"] in ids else None) == parent]
    return sorted(found, key=lambda p: (fold(p["name"]["text"]), p["id"]))


def tree(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the places inside none, each with its `children`, nested the same way."""

    def level(parent: str | None, seen: frozenset[str]) -> list[dict[str, Any]]:
        return [{**p, "children": level(p["id"], seen | {p["id"]})}
                for p in children(places, parent) if p["id"] not in seen]  # fmt: skip

    return level(None, frozenset())


def ancestors(places: list[dict[str, Any]], place: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the places a place is inside, the biggest first (country, region, city)."""
    by_id = {p["id"]: p for p in places}
    found: list[dict[str, Any]] = []
    at = by_id.get(place["parent"] or "")
    while at is not None and at["id"] != place["id"] and at not in found:
        found.insert(0, at)
        at = by_id.get(at["parent"] or "")
    return found
