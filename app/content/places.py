"""Load `content/places/<place-id>/place.yaml` and its HSDS services, every problem with file and line.

place.yaml holds what a reader needs before any service: the place's name in
each language, its country (ISO 3166-1 alpha-2) and IANA time zone, and its
emergency numbers, each with an official source and the date it was checked.
A place may sit inside another (`parent:`, a city in a country); the parents
must exist and never loop back. `contact:` is the NGO's own desk for the place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.categories import CATEGORIES
from app.content import dialling, yamlfile
from app.content.hsds import web_address
from app.content.services import STALE_AFTER, read_services

Report = Callable[[Path, int, str, bool], None]
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FIELDS = {"name", "country", "timezone", "parent", "emergency", "contact", "sample", "language",
           "services_checked", "categories"}  # fmt: skip
_CONTACT_FIELDS = ("name", "phone", "email", "url", "address", "hours")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Place:
    id: str
    names: dict[str, str]
    country: str
    timezone: str
    parent: str | None = None
    parent_line: int = 1
    sample: bool = False
    contact: dict[str, Any] = field(default_factory=dict)
    emergency: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)


def load_places(root: Path, languages: list[str], today: date, report: Report) -> list[Place]:
    """Return every place under `root/places`, reporting each problem through `report`."""
    found = []
    folder = root / "places"
    paths = sorted(folder.glob("*/place.yaml")) if folder.is_dir() else []
    for path in paths:
        place = _load_place(path, languages, today, report)
        if place is not None:
            found.append(place)
    _check_parents(found, folder, {p.parent.name for p in paths}, report)
    return found


def _check_parents(found: list[Place], folder: Path, defined: set[str], report: Report) -> None:
    """Report a parent that no folder defines, and every place on a loop of parents, at its `parent:` line."""
    by_id = {p.id: p for p in found}
    for p in found:
        if p.parent and p.parent not in defined:
            report(folder / p.id / "place.yaml", p.parent_line,
                   f"parent '{p.parent}' is not a place (there is no places/{p.parent}/place.yaml)", False)  # fmt: skip
        chain, at = [p.id], p
        while at.parent in by_id and at.parent not in chain:
            at = by_id[at.parent]
            chain.append(at.id)
        if at.parent == p.id:
            loop = " -> ".join([*chain, p.id])
            report(folder / p.id / "place.yaml", p.parent_line,
                   f"parent: the places form a loop ({loop}); a place cannot be inside itself", False)  # fmt: skip


def _load_place(path: Path, languages: list[str], today: date, report: Report) -> Place | None:
    place_id = path.parent.name
    try:
        data, lines = yamlfile.load(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, yamlfile.YamlError) as exc:
        report(path, getattr(exc, "line", 1), str(exc) if isinstance(exc, yamlfile.YamlError) else "not UTF-8", False)
        return None
    if not isinstance(data, dict):
        report(path, 1, "expected `field: value` lines", False)
        return None

    def at(*key: Any) -> int:
        return yamlfile.line_of(lines, key, 1)

    errors: list[str] = []

    def error(line: int, message: str, warning: bool = False) -> None:
        report(path, line, message, warning)
        if not warning:
            errors.append(message)

    if not _ID.match(place_id):
        error(1, f"place folder '{place_id}' must be lower-case letters, digits and hyphens")
    names, country, zone, language, mapping = _facts(data, languages, at, error)
    if errors:
        return None
    parent = data.get("parent")
    if parent is not None and not (isinstance(parent, str) and _ID.match(parent)):
        error(at("parent"), "parent: the folder name of the place this one is inside, such as 'germany'")
        parent = None  # reported; the rest of the file is still checked
    place = Place(place_id, names, country, zone, parent, at("parent"), bool(data.get("sample")))
    place.contact = _contact(data.get("contact"), place, languages, at, error)
    place.emergency = _emergency(data.get("emergency") or [], place, languages, today, at, error)
    facts = {"country": country, "timezone": zone, "language": language,
             "services_checked": str(data.get("services_checked") or ""),
             "categories": {str(k).lower(): v for k, v in mapping.items()}}  # fmt: skip
    services = path.parent / "services"
    if services.is_dir():
        place.services = read_services(services, facts, set(languages), today, report)
    return place


def _facts(data: dict, languages: list[str], at, error) -> tuple[dict[str, str], str, str, str, dict]:
    """Check place.yaml's own fields; return its names, country, zone, services language and category map."""
    for key in sorted(set(data) - _FIELDS):
        error(at(key), f"unknown field '{key}'")
    names = _names(data.get("name"), ("name",), languages, at, error, required=True)
    country = str(data.get("country", "")).strip()
    if not dialling.is_known_country(country):
        error(at("country"), f"country '{country}' is not an ISO 3166-1 alpha-2 code such as 'DE'")
    zone = str(data.get("timezone", "")).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        error(at("timezone"), f"timezone '{zone}' is not an IANA time zone such as 'Europe/Berlin'")
    language = str(data.get("language", languages[0]))
    if language not in languages:
        error(at("language"), f"unknown language '{language}'")
    mapping = data.get("categories") or {}
    if not isinstance(mapping, dict):
        error(at("categories"), "categories: expected `taxonomy term: category` lines")
        mapping = {}
    for term, target in mapping.items():
        if target not in CATEGORIES:
            error(at("categories", term), f"category '{target}' is not one of: {', '.join(CATEGORIES)}")
    return names, country, zone, language, mapping


def _names(value: Any, key: tuple, languages: list[str], at, error, required: bool = False) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        error(at(*key), f"{'.'.join(map(str, key))}: expected `language: text` lines")
        return {}
    for code in value:
        if code not in languages:
            error(at(*key, code), f"unknown language '{code}'")
    if languages[0] not in value:
        error(at(*key), f"{'.'.join(map(str, key))} needs a text in '{languages[0]}'")
    return {k: v.strip() for k, v in value.items()}


def _emergency(items: Any, place: Place, languages: list[str], today: date, at, error) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        error(at("emergency"), "emergency: expected a list of numbers")
        return []
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            error(at("emergency", i), "expected number, name, source and checked")
            continue
        number = str(item.get("number", "")).strip()
        target = dialling.tel(number, place.country)
        if target is None:
            error(at("emergency", i, "number"), f"emergency number '{number}' cannot be dialled in {place.country}")
        source = str(item.get("source", ""))
        if not source.startswith("https://"):
            error(at("emergency", i, "source"), "source: an official https:// page that lists this number")
        checked = item.get("checked")
        try:
            checked_on = date.fromisoformat(str(checked))
        except ValueError:
            error(at("emergency", i, "checked"), "checked: the date the number was checked, YYYY-MM-DD")
            checked_on = None
        if checked_on and today - checked_on > STALE_AFTER:
            error(at("emergency", i, "checked"), f"not checked since {checked_on} (more than 6 months)", True)
        names = _names(item.get("name"), ("emergency", i, "name"), languages, at, error, required=True)
        found.append({"number": number, "tel": target, "names": names, "source": source,
                      "checked": checked_on.isoformat() if checked_on else ""})  # fmt: skip
    return found


def _contact(value: Any, place: Place, languages: list[str], at, error) -> dict[str, Any]:
    """Check the NGO's own contact for the place; return it as the pages show it ({} when there is none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        error(at("contact"), f"contact: expected {', '.join(_CONTACT_FIELDS)} lines")
        return {}
    for key in sorted(set(value) - set(_CONTACT_FIELDS)):
        error(at("contact", key), f"contact: unknown field '{key}' (use {', '.join(_CONTACT_FIELDS)})")
    dialled = _contact_phones(value.get("phone"), place.country, at, error)
    email = str(value.get("email") or "").strip()
    if email and not _EMAIL.match(email):
        error(at("contact", "email"), f"contact.email: '{email}' is not an e-mail address")
    url = None
    if value.get("url"):
        url, warning = web_address("contact.url", str(value["url"]).strip())
        if warning:
            error(at("contact", "url"), warning, True)
    address = value.get("address") or []
    address = [address] if isinstance(address, str) else address
    if not isinstance(address, list) or not all(isinstance(line, str) for line in address):
        error(at("contact", "address"), "contact.address: expected the address as text, one line or a list of lines")
        address = []
    return {"name": _names(value.get("name"), ("contact", "name"), languages, at, error),
            "phones": dialled, "email": email, "url": url, "address": [a.strip() for a in address if a.strip()],
            "address_lang": languages[0],
            "hours": _names(value.get("hours"), ("contact", "hours"), languages, at, error)}  # fmt: skip


def _contact_phones(value: Any, country: str, at, error) -> list[dict[str, str]]:
    """Return the contact's numbers ({number, tel}), each checked as for services: diallable in the country."""
    if value is None or value == "":
        return []
    listed = value if isinstance(value, list) else [value]
    dialled = []
    for i, number in enumerate(listed):
        line = at("contact", "phone", i) if isinstance(value, list) else at("contact", "phone")
        target = dialling.tel(str(number), country) if isinstance(number, str | int) else None
        if target is None:
            error(line, f"contact phone number '{number}' cannot be dialled in {country}")
        else:
            dialled.append({"number": str(number).strip(), "tel": target})
    return dialled
