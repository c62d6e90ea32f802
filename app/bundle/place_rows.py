"""The bundle rows of places, emergency numbers and services (issue #14), from a checked content set."""

from __future__ import annotations

import json
from typing import Any

from app.content.places import Place


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def place_rows(places: list[Place]) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of the places, emergency_numbers and services tables, in a fixed order."""
    rows: dict[str, list[dict[str, Any]]] = {
        "places": [],
        "emergency_numbers": [],
        "services": [],
    }
    for position, p in enumerate(sorted(places, key=lambda p: p.id)):
        rows["places"].append(
            {"id": p.id, "parent": p.parent, "country": p.country, "timezone": p.timezone, "names": _json(p.names),
             "sample": int(p.sample), "contact": _json(p.contact), "position": position}
        )  # fmt: skip
        for i, e in enumerate(p.emergency):
            rows["emergency_numbers"].append(
                {"place": p.id, "position": i, "number": e["number"], "tel": e["tel"], "names": _json(e["names"]),
                 "source": e["source"], "checked": e["checked"]}
            )  # fmt: skip
        for s in sorted(p.services, key=lambda s: s["id"]):
            name = s["texts"][s["lang"]].get("name", s["id"])
            rows["services"].append(
                {"place": p.id, "id": s["id"], "category": s["category"], "name": name, "checked": s["checked"],
                 "data": _json(s)}
            )  # fmt: skip
    return rows
