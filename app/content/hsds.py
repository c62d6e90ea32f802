"""Read an Open Referral HSDS export (a folder of CSV files) as Waypost services, reporting problems by CSV line.

Layouts read, as published by Open Referral (docs.openreferral.org, the
`openreferral/specification` repository's schema/simple/schema.csv for 3.x):

- HSDS 3.0 tabular: services, organizations, locations, service_at_location,
  addresses, phones, schedules (RRULE parts), languages (`code`),
  cost_options, required_documents, attributes + taxonomy_terms,
  accessibility, contacts;
- HSDS 2.0.x: the same tables, with `physical_addresses.csv` and singular
  file names accepted, and `eligibility.csv`;
- HSDS 1.x datapackage: `regular_schedules.csv` (weekday, opens_at,
  closes_at), `holiday_schedules.csv`, `physical_addresses.csv`,
  `service_taxonomy.csv` + `taxonomy.csv`, languages with a `language` column.

Columns the specification defines but Waypost does not show, and any extra
column, are ignored. Required columns are the ones every layout shares and a
reader needs (an id everywhere, a service's name, a phone's number...).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from app.categories import CATEGORIES
from app.content import dialling, hours

Report = Callable[[Path, int, str, bool], None]
Row = dict[str, Any]

# Each table: the file names an export may use (3.0 first), and the columns it must have.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "services": (("services.csv", "service.csv"), ("id", "name")),
    "organizations": (("organizations.csv", "organization.csv"), ("id", "name")),
    "locations": (("locations.csv", "location.csv"), ("id",)),
    "service_at_location": (("service_at_location.csv", "services_at_location.csv"),
                            ("id", "service_id", "location_id")),
    "addresses": (("addresses.csv", "address.csv", "physical_addresses.csv", "physical_address.csv"),
                  ("id", "address_1", "city", "country")),
    "phones": (("phones.csv", "phone.csv"), ("id", "number")),
    "schedules": (("schedules.csv", "schedule.csv"), ("id",)),
    "regular": (("regular_schedules.csv", "regular_schedule.csv"), ("id", "weekday", "opens_at", "closes_at")),
    "holiday": (("holiday_schedules.csv", "holiday_schedule.csv"), ("id", "closed", "start_date")),
    "languages": (("languages.csv", "language.csv"), ("id",)),
    "cost_options": (("cost_options.csv", "cost_option.csv"), ("id", "service_id")),
    "required_documents": (("required_documents.csv", "required_document.csv"), ("id", "document")),
    "attributes": (("attributes.csv", "attribute.csv"), ("id", "link_id", "taxonomy_term_id")),
    "taxonomy_terms": (("taxonomy_terms.csv", "taxonomy_term.csv", "taxonomy.csv"), ("id", "name")),
    "service_taxonomy": (("service_taxonomy.csv",), ("id", "service_id", "taxonomy_id")),
    "accessibility": (("accessibility.csv", "accessibility_for_disabilities.csv"), ("id", "location_id")),
    "eligibility": (("eligibility.csv",), ("id", "service_id")),
    "contacts": (("contacts.csv", "contact.csv"), ("id",)),
}  # fmt: skip
# A row of these tables is shown on a service's page, so the service (or location) it names must exist.
_NEEDS_SERVICE = ("service_at_location", "cost_options", "eligibility", "service_taxonomy")
_MAYBE_SERVICE = ("phones", "schedules", "regular", "holiday", "languages", "required_documents")
# Service texts a translation file may give, by their services.csv column names.
TRANSLATABLE = (
    "name", "alternate_name", "description", "eligibility_description", "application_process",
    "fees_description", "interpretation_services", "alert",
)  # fmt: skip
_LANGUAGE_NAMES = Locale("en").languages
# ISO 639-3 codes of languages many migrants speak that CLDR files under another code (Dari is fa-AF there).
_MORE_639_3 = {"prs", "pbt", "pes", "apc", "ajp", "arz", "acm", "ary", "apd", "kmr", "sdh", "tir", "hae", "gaz"}


def read_csv(path: Path, required: tuple[str, ...], report: Report) -> list[Row]:
    """Return a CSV file's rows as dicts with their first line in `_line`; report missing columns and values."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        report(path, 1, "not UTF-8 text; export the file as UTF-8 CSV", False)
        return []
    reader = csv.reader(text.splitlines(keepends=True))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        report(path, 1, "missing required column " + ", ".join(f"'{c}'" for c in missing), False)
        return []
    rows: list[Row] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    for values in reader:
        if any(v.strip() for v in values):
            row: Row = {k: (values[i].strip() if i < len(values) else "") for i, k in enumerate(header) if k}
            row["_line"] = line
            empty = [c for c in required if not row.get(c)]
            if empty:
                report(path, line, "missing required value " + ", ".join(f"'{c}'" for c in empty), False)
            elif row["id"] in seen:
                report(path, line, f"duplicate id '{row['id']}' (first on line {seen[row['id']]})", False)
            else:
                seen[row["id"]] = line
                rows.append(row)
        line = reader.line_num + 1
    return rows


def language_known(code: str) -> bool:
    """Return whether a code is an ISO 639 language (639-1 or 639-3) the CLDR data names."""
    if code in _LANGUAGE_NAMES or code in _MORE_639_3:
        return True
    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


class Export:
    """One place's HSDS folder being read: its tables, its paths, and the place facts it is checked against."""

    def __init__(self, folder: Path, place: dict[str, Any], today: date, report: Report):
        self.folder, self.place, self.today, self.report = folder, place, today, report
        self.paths: dict[str, Path] = {}
        self.t: dict[str, list[Row]] = {}
        for table, (names, required) in TABLES.items():
            path = next((folder / n for n in names if (folder / n).is_file()), None)
            if path is not None:
                self.paths[table] = path
                self.t[table] = read_csv(path, required, report)
            else:
                self.t[table] = []
        self.ids = {table: {r["id"]: r for r in rows} for table, rows in self.t.items()}
        self._groups: dict[tuple[str, str], dict[str, list[Row]]] = {}

    def problem(self, table: str, row: Row, message: str, warning: bool = False) -> None:
        self.report(self.paths[table], row["_line"], message, warning)

    def by(self, table: str, key: str, value: str) -> list[Row]:
        """Return the rows of a table whose `key` column is `value` (grouped once per table and key)."""
        if (table, key) not in self._groups:
            groups: dict[str, list[Row]] = {}
            for r in self.t[table]:
                groups.setdefault(r.get(key, ""), []).append(r)
            self._groups[(table, key)] = groups
        return self._groups[(table, key)].get(value, []) if value else []

    def linked(self, table: str, service_id: str, location_ids: set[str], sal_ids: set[str]) -> list[Row]:
        """Return a table's rows that belong to a service (see `applies`), in file order."""
        found = {id(r): r for r in self.by(table, "service_id", service_id)}
        for sal in sal_ids:
            found.update((id(r), r) for r in self.by(table, "service_at_location_id", sal))
        for location in location_ids:
            found.update((id(r), r) for r in self.by(table, "location_id", location))
        rows = [r for r in found.values() if self.applies(r, service_id, location_ids, sal_ids)]
        return sorted(rows, key=lambda r: r["_line"])

    def check_links(self) -> None:
        """Report ids that a shown row names but no table defines (errors) and dangling optional links (warnings)."""
        services, locations = self.ids["services"], self.ids["locations"]
        for table in (*_NEEDS_SERVICE, *_MAYBE_SERVICE):
            for r in self.t[table]:
                if r.get("service_id") and r["service_id"] not in services:
                    self.problem(table, r, f"service_id '{r['service_id']}' is not in services.csv")
        for table in ("service_at_location", "addresses", "accessibility", "schedules", "regular", "holiday", "phones"):
            for r in self.t[table]:
                if r.get("location_id") and r["location_id"] not in locations:
                    self.problem(table, r, f"location_id '{r['location_id']}' is not in locations.csv")
        for table in ("schedules", "phones", "regular", "holiday"):
            for r in self.t[table]:
                sal = r.get("service_at_location_id")
                if sal and sal not in self.ids["service_at_location"]:
                    self.problem(table, r, f"service_at_location_id '{sal}' is not in service_at_location.csv")
        self._check_optional_links()

    def _check_optional_links(self) -> None:
        orgs, terms = self.ids["organizations"], self.ids["taxonomy_terms"]
        for table in ("services", "locations", "phones", "contacts"):
            for r in self.t[table]:
                if r.get("organization_id") and r["organization_id"] not in orgs:
                    self.problem(
                        table, r, f"organization_id '{r['organization_id']}' is not in organizations.csv", True
                    )
        for r in self.t["taxonomy_terms"]:
            if r.get("parent_id") and r["parent_id"] not in terms:
                self.problem("taxonomy_terms", r, f"parent_id '{r['parent_id']}' is not a taxonomy term", True)
        for r in self.t["attributes"]:
            if r["taxonomy_term_id"] not in terms:
                self.problem(
                    "attributes", r, f"taxonomy_term_id '{r['taxonomy_term_id']}' is not a taxonomy term", True
                )
            elif not any(r["link_id"] in ids for ids in self.ids.values()):
                self.problem("attributes", r, f"link_id '{r['link_id']}' points to no row", True)
        for r in self.t["service_taxonomy"]:
            if r["taxonomy_id"] not in terms:
                self.problem("service_taxonomy", r, f"taxonomy_id '{r['taxonomy_id']}' is not a taxonomy term", True)

    def url(self, table: str, row: Row, key: str) -> dict[str, Any] | None:
        """Return {text, link}: an https URL is a link, an http:// one is shown as text (a warning)."""
        value = row.get(key, "")
        if not value:
            return None
        shown, warning = web_address(key, value)
        if warning:
            self.problem(table, row, warning, True)
        return shown

    def phone(self, table: str, row: Row) -> dict[str, Any] | None:
        number = row.get("number", "")
        target = dialling.tel(number, self.place["country"])
        if target is None:
            self.problem(table, row, f"phone number '{number}' cannot be dialled in {self.place['country']}")
            return None
        return {
            "number": number, "tel": target, "type": row.get("type", ""),
            "extension": row.get("extension", "").removesuffix(".0"), "description": row.get("description", ""),
        }  # fmt: skip

    def coordinate(self, row: Row, key: str, limit: float) -> float | None:
        value = row.get(key, "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not -limit <= number <= limit:
            self.problem("locations", row, f"{key} '{value}' is not between -{limit:g} and {limit:g}")
            return None
        return number

    def location(self, row: Row) -> dict[str, Any]:
        addresses = []
        for a in self.by("addresses", "location_id", row["id"]):
            if a.get("address_type", "physical") not in ("physical", ""):
                continue
            if a["country"].upper() != self.place["country"]:
                self.problem("addresses", a, f"address in {a['country']}, not in {self.place['country']}", True)
            lines = [a.get(k, "") for k in ("attention", "address_1", "address_2", "address_3", "address_4")]
            lines.append(" ".join(x for x in (a.get("postal_code", ""), a["city"]) if x))
            parts = {k: a.get(k, "") for k in ("address_1", "address_2", "city", "region", "state_province",
                                                "postal_code", "country") if a.get(k)}  # fmt: skip
            addresses.append(([x for x in lines if x], parts))
        return {
            "id": row["id"], "name": row.get("name", ""), "description": row.get("description", ""),
            "transportation": row.get("transportation", ""),
            "latitude": self.coordinate(row, "latitude", 90), "longitude": self.coordinate(row, "longitude", 180),
            "address": addresses[0][0] if addresses else [],
            "address_parts": addresses[0][1] if addresses else {},
            "accessibility": [x for r in self.by("accessibility", "location_id", row["id"])
                              for x in (r.get("description", "") or r.get("accessibility", ""), r.get("details", ""))
                              if x],
        }  # fmt: skip

    def languages(self, service_id: str) -> list[str]:
        found = []
        for r in self.by("languages", "service_id", service_id):
            code = (r.get("code") or r.get("language") or "").strip()
            if not code:
                continue
            if not language_known(code):
                self.problem("languages", r, f"unknown language code '{code}' (use ISO 639-1 or 639-3, such as 'ar')")
                continue
            if code not in found:
                found.append(code)
        return found

    @staticmethod
    def applies(r: Row, service_id: str, location_ids: set[str], sal_ids: set[str]) -> bool:
        """Return whether a phone or schedule row belongs to a service: by its id, its service at a
        location, or (a row naming neither) the location where the service is."""
        if r.get("service_at_location_id"):
            return r["service_at_location_id"] in sal_ids
        if r.get("service_id"):
            return r["service_id"] == service_id
        return r.get("location_id", "") in location_ids

    def schedules(self, service_id: str, location_ids: set[str], sal_ids: set[str]) -> list[dict[str, Any]]:
        found = []
        for table, kind in (("schedules", "schedules"), ("regular", "regular"), ("holiday", "holiday")):
            for r in self.linked(table, service_id, location_ids, sal_ids):

                def report(message: str, warning: bool, r: Row = r, table: str = table) -> None:
                    self.problem(table, r, message, warning)

                rule = hours.rule(r, kind, self.place["timezone"], self.today, report)
                if rule is not None:
                    found.append(rule)
        return found

    def category(self, row: Row, mapping: dict[str, str]) -> str:
        explicit = row.get("category", "")
        if explicit:
            if explicit in CATEGORIES:
                return explicit
            self.problem("services", row, f"category '{explicit}' is not one of: {', '.join(CATEGORIES)}")
        term_ids = [a["taxonomy_term_id"] for a in self.by("attributes", "link_id", row["id"])]
        term_ids += [s["taxonomy_id"] for s in self.by("service_taxonomy", "service_id", row["id"])]
        for term_id in term_ids:
            term = self.ids["taxonomy_terms"].get(term_id)
            for key in (term.get("code", ""), term["name"]) if term else ():
                target = mapping.get(key.lower()) or (key.lower() if key.lower() in CATEGORIES else None)
                if target:
                    return target
        return "other"


def web_address(key: str, value: str) -> tuple[dict[str, Any], str | None]:
    """Return a web address as {text, link} and the warning it earns: only an https:// one becomes a link."""
    if value.lower().startswith("http://"):
        return {"text": value, "link": False}, f"{key}: '{value}' is not https; it is shown as text, not as a link"
    if not value.lower().startswith("https://"):
        return {"text": value, "link": False}, f"{key}: '{value}' is not a web address (https://...)"
    return {"text": value, "link": True}, None
