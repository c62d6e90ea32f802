"""Export a place's services back out as HSDS 3.0 service objects, so another directory can take them in.

Field names follow the HSDS 3.0 `service` schema (openreferral/specification
schema/service.json and its nested phone, schedule, language, cost_option,
required_document, service_at_location, location, address, accessibility and
attribute objects). Waypost's category travels as an attribute whose taxonomy
term is the category id, in a taxonomy named "waypost-categories".
"""

from __future__ import annotations

from typing import Any

_RRULE_KEYS = {"FREQ": "freq", "INTERVAL": "interval", "BYDAY": "byday", "BYMONTHDAY": "bymonthday",
               "BYWEEKNO": "byweekno", "BYYEARDAY": "byyearday", "COUNT": "count", "WKST": "wkst"}  # fmt: skip


def _schedule(sid: str, i: int, rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"{sid}-schedule-{i}", "service_id": sid, "description": rule["description"] or None,
                           "valid_from": rule["valid_from"], "valid_to": rule["valid_to"], "dtstart": rule["dtstart"],
                           "opens_at": rule["opens"], "closes_at": rule["closes"]}  # fmt: skip
    if rule["holiday"]:
        # HSDS 3.0 has no "closed": a closure is a dated schedule without hours, described as closed.
        out["notes"] = "closed" if rule["closed"] else None
    for part in (rule["rrule"] or "").split(";"):
        key, _, value = part.partition("=")
        if key in _RRULE_KEYS:
            out[_RRULE_KEYS[key]] = int(value) if key in ("INTERVAL", "COUNT") else value
        elif key == "UNTIL":
            out["until"] = f"{value[:4]}-{value[4:6]}-{value[6:8]}"
    return {k: v for k, v in out.items() if v is not None}


def _location(sid: str, loc: dict[str, Any]) -> dict[str, Any]:
    address = dict(loc.get("address_parts") or {})
    return {
        "id": f"{sid}-at-{loc['id']}",
        "service_id": sid,
        "location": {
            "id": loc["id"], "location_type": "physical", "name": loc["name"] or None,
            "description": loc["description"] or None, "transportation": loc["transportation"] or None,
            "latitude": loc["latitude"], "longitude": loc["longitude"],
            "addresses": [{"id": f"{loc['id']}-address", "location_id": loc["id"], "address_type": "physical",
                           **address}] if address else [],
            "accessibility": [{"id": f"{loc['id']}-access-{i}", "location_id": loc["id"], "description": text}
                              for i, text in enumerate(loc["accessibility"])],
        },
    }  # fmt: skip


def hsds_service(s: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return one stored service as an HSDS 3.0 service object, its texts in lang where translated."""
    texts = {**s["texts"].get(s["lang"], {}), **s["texts"].get(lang, {})}
    sid = s["id"]
    org = s.get("organization") or {}
    out: dict[str, Any] = {
        "id": sid, "status": s["status"], "url": (s["url"] or {}).get("text"), "email": s["email"] or None,
        **{k: v for k, v in texts.items()},
        "assured_date": s["checked"],
        "minimum_age": int(s["minimum_age"]) if s["minimum_age"].isdigit() else None,
        "maximum_age": int(s["maximum_age"]) if s["maximum_age"].isdigit() else None,
        "organization": {"name": org.get("name"), "website": (org.get("website") or {}).get("text")} if org else None,
        "phones": [{"id": f"{sid}-phone-{i}", "service_id": sid, "number": p["number"], "type": p["type"] or None,
                    "description": p["description"] or None} for i, p in enumerate(s["phones"])],
        "schedules": [_schedule(sid, i, r) for i, r in enumerate(s["schedules"])],
        "languages": [{"id": f"{sid}-language-{i}", "service_id": sid, "code": c}
                      for i, c in enumerate(s["languages"])],
        "cost_options": [{"id": f"{sid}-cost-{i}", "service_id": sid, "option": c["option"] or None,
                          "amount": c["amount"], "currency": c["currency"] or None,
                          "amount_description": c["description"] or None} for i, c in enumerate(s["costs"])],
        "required_documents": [{"id": f"{sid}-document-{i}", "service_id": sid, "document": d}
                               for i, d in enumerate(s["documents"])],
        "service_at_locations": [_location(sid, loc) for loc in s["locations"]],
        "attributes": [{"id": f"{sid}-category", "link_id": sid, "link_entity": "service",
                        "taxonomy_term": {"id": f"waypost-{s['category']}", "code": s["category"],
                                          "name": s["category"], "taxonomy": "waypost-categories"}}],
    }  # fmt: skip
    return {k: v for k, v in out.items() if v is not None}


def hsds_services(services: list[dict[str, Any]], lang: str, place: dict[str, Any]) -> dict[str, Any]:
    """Return a place's services as an HSDS 3.0 paginated service list (one page holding them all)."""
    items = [hsds_service(s, lang) for s in services]
    return {"total_items": len(items), "total_pages": 1, "page_number": 1, "size": len(items),
            "first_page": True, "last_page": True, "empty": not items, "contents": items}  # fmt: skip
