"""Check the remittance price files in `content/remittances/` and gather them into corridors.

`source.yaml` says where the data came from (licence, attribution, when it
was taken, whether it is sample data); every `.csv` and `.xlsx` beside it is
read in whichever World Bank shape it has (app/content/rpw.py). Each row is
checked against the method (app/remittance_method.py) and every problem is
returned as (path, line, message, warning) for load.py to report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.core import get_global
from babel.numbers import get_territory_currencies
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from app import remittance_method as method
from app.content import rpw, yamlfile
from app.content.rpw import Issue, ServiceRow

FOLDER = "remittances"
# The total cost may differ from fee share + FX margin by this much: both parts are published rounded.
TOLERANCE = Decimal("0.01")
# World Bank codes that are not ISO 3166 alpha-3, with the CLDR territory they mean.
WORLD_BANK_CODES = {"XKX": "XK", "KSV": "XK", "ROM": "RO", "ZAR": "CD", "TMP": "TL", "WBG": "PS"}
FEW_PROVIDERS = 3
TWO_RATES_WORDS = ("two exchange rates", "parallel", "multiple exchange rates", "official rate")
AMOUNTS = ("cc1", "cc2")
NUMBERS = ("lcu amount", "lcu fee", "lcu fx rate", "fx margin", "total cost %")


class PriceSourceSchema(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1))
    url = fields.Url(required=True, schemes={"https"})
    licence = fields.String(required=True, validate=validate.Length(min=1))
    licence_url = fields.Url(required=True, schemes={"https"})
    attribution = fields.String(required=True, validate=validate.Length(min=1))
    taken = fields.Date(required=True)
    sample = fields.Boolean(load_default=False)


@dataclass
class Corridor:
    source_code: str
    destination_code: str
    source_name: str
    destination_name: str
    source_territory: str
    destination_territory: str
    send_currency: str = ""
    receive_currency: str = ""
    newest: tuple[int, int] | None = None
    # (period, "cc1" | "cc2" | "smart") -> percent
    costs: dict[tuple[tuple[int, int], str], Decimal] = field(default_factory=dict)
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    services: list[dict[str, Any]] = field(default_factory=list)  # the newest period's
    flags: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.source_code}-{self.destination_code}"


@dataclass
class Remittances:
    source: dict[str, Any]
    corridors: list[Corridor]


def load_remittances(root: Path, today: date) -> tuple[Remittances | None, list[Issue]]:
    """Read and check `root/remittances/`; return the corridors (None when the folder is absent) and issues."""
    folder = root / FOLDER
    if not folder.is_dir():
        return None, []
    issues: list[Issue] = []
    source = _source(folder / "source.yaml", issues)
    services: list[ServiceRow] = []
    series: list[rpw.SeriesRow] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx")):
        for table in rpw.read_tables(path, issues):
            if rpw.is_databank(table[1]):
                series.extend(rpw.read_series(table, issues))
            else:
                services.extend(rpw.read_services(table, issues))
    checked = [row for row in services if _check_service(row, issues)]
    corridors = _corridors(checked, [s for s in series if _check_codes(s, issues)])
    if source is not None and not source["sample"]:
        _check_age(corridors, checked, series, today, issues)
    if any(not p[3] for p in issues) or source is None:
        return None, issues
    return Remittances(source, sorted(corridors.values(), key=lambda c: c.key)), issues


def _source(path: Path, issues: list[Issue]) -> dict[str, Any] | None:
    try:
        data, lines = yamlfile.load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        issues.append((path, 0, "file not found: say where the prices come from (see content/README.md)", False))
        return None
    except yamlfile.YamlError as exc:
        issues.append((path, exc.line, str(exc), False))
        return None
    if not isinstance(data, dict):
        issues.append((path, 1, "expected `field: value` lines", False))
        return None
    try:
        return PriceSourceSchema().load(data)
    except ValidationError as exc:
        for key, messages in sorted(exc.normalized_messages().items()):
            issues.append((path, yamlfile.line_of(lines, (key,), 1), f"{key}: {messages[0]}", False))
        return None


def territory(code: str) -> str | None:
    """Return the CLDR territory of a World Bank country code (mostly ISO alpha-3), or None."""
    found = WORLD_BANK_CODES.get(code) or next(iter(get_global("territory_aliases").get(code, [])), None)
    return found if found and found in Locale("en").territories else None


def _check_codes(row: rpw.ServiceRow | rpw.SeriesRow, issues: list[Issue]) -> bool:
    ok = True
    for code in (row.source_code, row.destination_code):
        if territory(code) is None:
            issues.append((row.path, row.line, f"unknown country code `{code}` (World Bank / ISO 3166 alpha-3)", False))
            ok = False
    return ok


def _check_service(row: ServiceRow, issues: list[Issue]) -> bool:
    before = len(issues)
    _check_codes(row, issues)
    where = (row.path, row.line)
    for name in ("firm", "firm_type", "speed actual"):
        if not row.values[name]:
            issues.append((*where, f"`{name}` is empty", False))
    if row.values["transparent"].lower() not in ("yes", "no"):
        issues.append((*where, f"`transparent` must be yes or no, not `{row.values['transparent']}`", False))
    row.numbers["interbank"] = _positive(row, "inter lcu bank fx", issues)
    for amount in AMOUNTS:
        cells = {n: row.values.get(f"{amount} {n}", "") for n in NUMBERS}
        if amount == "cc2" and not any(cells.values()):
            continue  # the USD 500 amount is not surveyed everywhere
        _check_amount(row, amount, cells, issues)
    return len(issues) == before


def _positive(row: ServiceRow, column: str, issues: list[Issue]) -> Decimal | None:
    value = method.number(row.values.get(column, ""))
    if value is None or value <= 0:
        issues.append(
            (row.path, row.line, f"`{column}`: `{row.values.get(column, '')}` is not a number above 0", False)
        )
        return None
    return value


def _check_amount(row: ServiceRow, amount: str, cells: dict[str, str], issues: list[Issue]) -> None:
    where = (row.path, row.line)
    values: dict[str, Decimal] = {}
    for name, raw in cells.items():
        value = method.number(raw)
        if value is None:
            issues.append((*where, f"`{amount} {name}`: `{raw}` is not a number", False))
            continue
        values[name] = value
    if len(values) < len(NUMBERS):
        return
    if values["lcu fee"] < 0:
        issues.append((*where, f"`{amount} lcu fee` is negative ({cells['lcu fee']})", False))
        return
    if values["lcu amount"] <= 0 or values["lcu fx rate"] <= 0:
        issues.append((*where, f"`{amount} lcu amount` and `{amount} lcu fx rate` must be above 0", False))
        return
    expected = method.total_cost(values["lcu amount"], values["lcu fee"], values["fx margin"])
    if abs(expected - values["total cost %"]) > TOLERANCE:
        issues.append(
            (*where, f"`{amount} total cost %` is {cells['total cost %']}, but fee share + FX margin is "
             f"{method.rounded(expected)}", False)
        )  # fmt: skip
        return
    for name, value in values.items():
        row.numbers[f"{amount} {name}"] = value


def _service(row: ServiceRow) -> dict[str, Any]:
    """Return a checked row as the builder stores it."""
    v, n = row.values, row.numbers
    return {
        "firm": v["firm"], "firm_type": v["firm_type"], "product": v.get("product", ""),
        "payment_instrument": v.get("payment instrument", ""), "access_point": v.get("access point", ""),
        "pickup_method": v.get("pickup method", ""), "speed": v["speed actual"],
        "transparent": v["transparent"].lower() == "yes",
        "accessible": v.get("accessible", "").lower() != "no",
        "note": v.get("note", ""), "interbank": n["interbank"],
        **{f"{a}_{key}": n.get(f"{a} {name}") for a in AMOUNTS for key, name in
           (("amount", "lcu amount"), ("fee", "lcu fee"), ("rate", "lcu fx rate"),
            ("margin", "fx margin"), ("total", "total cost %"))},
    }  # fmt: skip


def _corridor(found: dict[str, Corridor], row: ServiceRow | rpw.SeriesRow) -> Corridor:
    key = f"{row.source_code}-{row.destination_code}"
    if key not in found:
        found[key] = Corridor(
            row.source_code, row.destination_code, row.source_name, row.destination_name,
            territory(row.source_code) or "", territory(row.destination_code) or "",
        )  # fmt: skip
    return found[key]


def _corridors(services: list[ServiceRow], series: list[rpw.SeriesRow]) -> dict[str, Corridor]:
    found: dict[str, Corridor] = {}
    by_period: dict[tuple[str, tuple[int, int]], list[ServiceRow]] = defaultdict(list)
    for row in services:
        by_period[(_corridor(found, row).key, row.period)].append(row)
    for (key, period), rows in by_period.items():
        corridor, listed = found[key], [_service(r) for r in rows]
        for amount in AMOUNTS:
            value = method.average([s[f"{amount}_total"] for s in listed if s[f"{amount}_total"] is not None])
            if value is not None:
                corridor.costs[(period, amount)] = value
        smart = method.smart(listed)
        if smart is not None:
            corridor.costs[(period, "smart")] = smart
        corridor.counts[period] = len(listed)
        if corridor.newest is None or period > corridor.newest:
            corridor.newest, corridor.services = period, listed
            corridor.send_currency = rows[0].values["cc1 lcu code"].upper()
    for s in series:
        corridor = _corridor(found, s)
        for period, value in s.values.items():
            # A published average fills a quarter the provider rows do not cover.
            corridor.costs.setdefault((period, s.series), value)
            if corridor.newest is None or period > corridor.newest:
                corridor.newest, corridor.services = period, []
    for corridor in found.values():
        _finish(corridor)
    return found


def _finish(corridor: Corridor) -> None:
    if corridor.newest:
        currencies = get_territory_currencies(corridor.destination_territory, method.quarter_end(*corridor.newest))
        corridor.receive_currency = currencies[0] if currencies else ""
    services = corridor.services
    if services:
        if not any(s["transparent"] for s in services):
            corridor.flags.append("no-transparent")
        if any(word in s["note"].lower() for s in services for word in TWO_RATES_WORDS):
            corridor.flags.append("two-rates")
        if len({s["firm"] for s in services}) < FEW_PROVIDERS:
            corridor.flags.append("few-providers")


def _check_age(
    corridors: dict[str, Corridor], services: list[ServiceRow], series: list[rpw.SeriesRow], today: date, issues
) -> None:
    newest = max((c.newest for c in corridors.values() if c.newest), default=None)
    if newest is None:
        return
    quarters = (today.year - newest[0]) * 4 + (today.month - 1) // 3 + 1 - newest[1]
    if quarters > 2:
        row = next((r for r in services if r.period == newest), None)
        where = (row.path, row.line) if row else (series[0].path, 1) if series else (Path(FOLDER), 0)
        issues.append(
            (*where, f"the newest prices are from {newest[0]} Q{newest[1]}, {quarters} quarters ago: "
             "download the current RPW data (see content/README.md)", True)
        )  # fmt: skip
