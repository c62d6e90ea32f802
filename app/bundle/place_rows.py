"""The bundle rows of places, emergency numbers and services (issue #14), from a checked content set."""

from __future__ import annotations

import json
from typing import Any

from app.bundle.search import fold
from app.content.places import Place


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def service_search_text(service: dict[str, Any]) -> str:
    """Return the folded text a service search matches: its texts in every language, organisation, places."""
    parts = [service["organization"]["name"] if service.get("organization") else ""]
    for texts in service["texts"].values():
        parts += [texts.get(k, "") for k in ("name", "alternate_name", "description")]
    for location in service["locations"]:
        parts += [location["name"], " ".join(location["address"])]
    return fold(" ".join(p for p in parts if p))


def place_rows(places: list[Place]) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of the places, emergency_numbers and services tables, in a fixed order."""
    rows: dict[str, list[dict[str, Any]]] = {
        "places": [],
        "emergency_numbers": [],
        "services": [],
        "service_search": [],
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
            rows["service_search"].append(
                {"place": p.id, "id": s["id"], "name": name, "search": service_search_text(s)}
            )
    return rows
