"""Turn one place's HSDS export into the plain service records the bundle stores (one per service)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.content.hsds import TRANSLATABLE, Export, Report, Row, read_csv

STALE_AFTER = timedelta(days=183)  # "not checked for more than 6 months"
HIDDEN_STATUS = ("inactive", "defunct")


def read_services(folder: Path, place: dict[str, Any], languages: set[str], today: date, report: Report) -> list[dict]:
    """Return the shown services of a place's `services/` folder, every problem reported by CSV line."""
    export = Export(folder, place, today, report)
    if "services" not in export.paths:
        report(folder, 0, "no services.csv in this folder (an HSDS export needs one)", False)
        return []
    export.check_links()
    translations = _translations(folder / "translations", export, languages, report)
    found = []
    for row in export.t["services"]:
        if row.get("status", "active").lower() in HIDDEN_STATUS:
            continue
        found.append(_service(export, row, translations))
    return found


def _translations(folder: Path, export: Export, languages: set[str], report: Report) -> dict[str, dict[str, dict]]:
    """Return {service id: {lang: {column: text}}} from `translations/<lang>.csv` (an id column + services columns)."""
    found: dict[str, dict[str, dict]] = {}
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        if path.stem not in languages:
            report(
                path, 1, f"unknown language '{path.stem}' (languages.yaml lists {', '.join(sorted(languages))})", False
            )
            continue
        for row in read_csv(path, ("id",), report):
            if row["id"] not in export.ids["services"]:
                report(path, row["_line"], f"id '{row['id']}' is not in services.csv", False)
                continue
            texts = {k: row[k] for k in TRANSLATABLE if row.get(k)}
            found.setdefault(row["id"], {})[path.stem] = texts
    return found


def _checked(export: Export, row: Row) -> str | None:
    """Return when a service was last checked: its assured_date, or the place's services_checked."""
    value = row.get("assured_date", "")[:10] or export.place.get("services_checked") or ""
    try:
        checked = date.fromisoformat(value)
    except ValueError:
        if value:
            export.problem("services", row, f"assured_date: '{value}' is not a date (YYYY-MM-DD)")
        else:
            export.problem("services", row, "no assured_date and no services_checked in place.yaml", True)
        return None
    if export.today - checked > STALE_AFTER:
        export.problem("services", row, f"not checked since {checked.isoformat()} (more than 6 months)", True)
    return checked.isoformat()


def _costs(export: Export, service_id: str) -> tuple[list[dict], bool]:
    costs = []
    for r in export.by("cost_options", "service_id", service_id):
        try:
            amount = float(r["amount"]) if r.get("amount") else None
        except ValueError:
            export.problem("cost_options", r, f"amount '{r['amount']}' is not a number")
            amount = None
        costs.append({"option": r.get("option", ""), "amount": amount, "currency": r.get("currency", "").upper(),
                      "description": r.get("amount_description", "")})  # fmt: skip
    # "Free" first: a reader with no money must see it before anything else.
    costs.sort(key=lambda c: (c["amount"] != 0, c["amount"] or 0))
    return costs, bool(costs) and all(c["amount"] == 0 for c in costs)


def _service(export: Export, row: Row, translations: dict[str, dict[str, dict]]) -> dict[str, Any]:
    sid = row["id"]
    sals = export.by("service_at_location", "service_id", sid)
    location_ids = {s["location_id"] for s in sals} | ({row["location_id"]} if row.get("location_id") else set())
    locations = [
        export.location(export.ids["locations"][i]) for i in sorted(location_ids) if i in export.ids["locations"]
    ]
    sal_ids = {s["id"] for s in sals}
    phones = [export.phone("phones", r) for r in export.linked("phones", sid, location_ids, sal_ids)]
    org = export.ids["organizations"].get(row.get("organization_id", ""), {})
    eligibility = [e for e in export.by("eligibility", "service_id", sid)]
    costs, free = _costs(export, sid)
    source = {k: row[k] for k in TRANSLATABLE if row.get(k)}
    if not source.get("eligibility_description") and eligibility:
        source["eligibility_description"] = "; ".join(
            e.get("eligibility", "") for e in eligibility if e.get("eligibility")
        )
    if not source.get("fees_description") and row.get("fees"):
        source["fees_description"] = row["fees"]
    return {
        "id": sid,
        "category": export.category(row, export.place.get("categories", {})),
        "status": row.get("status", "active").lower() or "active",
        "lang": export.place["language"],
        "texts": {export.place["language"]: source, **translations.get(sid, {})},
        "organization": {
            "name": org.get("name", ""),
            "website": export.url("organizations", org, "website") or export.url("organizations", org, "url")
            if org
            else None,
            "email": org.get("email", ""),
        },
        "url": export.url("services", row, "url"),
        "email": row.get("email", ""),
        "phones": [p for p in phones if p],
        "locations": locations,
        "languages": export.languages(sid),
        "costs": costs,
        "free": free,
        "documents": [d["document"] for d in export.by("required_documents", "service_id", sid)],
        "schedules": export.schedules(sid, location_ids, sal_ids),
        "minimum_age": row.get("minimum_age", "").removesuffix(".0"),
        "maximum_age": row.get("maximum_age", "").removesuffix(".0"),
        "checked": _checked(export, row),
    }
