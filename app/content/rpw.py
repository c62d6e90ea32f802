"""Read the World Bank's Remittance Prices Worldwide files as they are published.

Two shapes, told apart by their header row:

- the RPW dataset, one row per provider and survey (CSV, or the published
  `.xlsx` workbook through openpyxl): columns as the workbook's Legend sheet
  names them (`period`, `source_code`, ..., `cc1 lcu fee`, `cc1 total cost %`);
  the renames of Q2 2016 (`sending location` -> `access point`, `pick-up
  method` -> `pickup method`, `product` dropped) are read under either name;
- the DataBank corridor export "Remittance Prices Worldwide (Corridors)":
  `Sending Countries Name, Sending Countries Code, Series Name, Series Code,
  Receiving Countries  Name, Receiving Countries  Code` (DataBank's own double
  spaces; single spaces are read too), then one column per quarter such as
  `2020Q3 [YR2020Q3]`, where `..` means no survey.

Readers return plain records and problems as (path, line, message, warning);
checking against the method is app/content/remittances.py's job.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.remittance_method import number

Issue = tuple[Path, int, str, bool]
Table = tuple[Path, list[str], Iterator[tuple[int, list[str]]]]

# The Legend's names, each with the older or DataBank spellings read as the same column.
ALIASES = {
    "access point": ("access point", "sending location"),
    "pickup method": ("pickup method", "pick-up method"),
    "receiving network coverage": ("receiving network coverage", "coverage"),
    "note": ("standard note", "note1", "note2"),
}
REQUIRED = (
    "period", "source_code", "source_name", "destination_code", "destination_name", "firm", "firm_type",
    "speed actual", "transparent", "inter lcu bank fx",
    "cc1 lcu amount", "cc1 lcu code", "cc1 lcu fee", "cc1 lcu fx rate", "cc1 fx margin", "cc1 total cost %",
)  # fmt: skip
OPTIONAL = (
    "product", "payment instrument", "access point", "pickup method", "note", "accessible",
    "cc2 lcu amount", "cc2 lcu code", "cc2 lcu fee", "cc2 lcu fx rate", "cc2 fx margin", "cc2 total cost %",
)  # fmt: skip
DATABANK = ("sending countries name", "sending countries code", "series name", "series code")
RPW_PERIOD = re.compile(r"^(\d{4})_([1-4])Q$")
DATABANK_PERIOD = re.compile(r"^(\d{4})Q([1-4]) \[YR\1Q\2\]$")
# DataBank series, told apart by their names: the two amounts surveyed, and SmaRT.
SERIES = (("smart", re.compile(r"smart", re.I)), ("cc1", re.compile(r"\b200\b")), ("cc2", re.compile(r"\b500\b")))


@dataclass
class ServiceRow:
    """One provider's survey in one period, its numbers as Decimals (None where blank)."""

    path: Path
    line: int
    period: tuple[int, int]
    source_code: str
    source_name: str
    destination_code: str
    destination_name: str
    values: dict[str, str]
    numbers: dict[str, Decimal | None] = field(default_factory=dict)


@dataclass
class SeriesRow:
    """One DataBank series for one corridor: a value per quarter."""

    path: Path
    line: int
    series: str
    source_code: str
    source_name: str
    destination_code: str
    destination_name: str
    values: dict[tuple[int, int], Decimal] = field(default_factory=dict)


def header_key(text: object) -> str:
    """Return a header cell as the column name it means: trimmed, lower-case, single spaces."""
    return " ".join(str(text or "").split()).lower()


def read_tables(path: Path, issues: list[Issue]) -> list[Table]:
    """Return a file's tables as (path shown in messages, header, numbered rows)."""
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            issues.append((path, 1, "not UTF-8 text; save the file as UTF-8 CSV", False))
            return []
        rows = csv.reader(text.splitlines())
        header = next(rows, [])
        return [(path, header, ((i, row) for i, row in enumerate(rows, start=2)))]
    return _workbook(path, issues)


def _workbook(path: Path, issues: list[Issue]) -> list[Table]:
    import openpyxl  # type: ignore[import-untyped]  # only for workbooks; most kiosks build from CSV

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        issues.append((path, 1, f"not a readable .xlsx workbook ({type(exc).__name__})", False))
        return []
    tables: list[Table] = []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        header = [_cell(v) for v in first or ()]
        keys = {header_key(h) for h in header}
        # The workbook also holds a Legend sheet; only sheets of data rows are read.
        if "period" in keys or "series name" in keys:
            shown = Path(f"{path}[{sheet.title}]")
            tables.append((shown, header, ((i, [_cell(v) for v in row]) for i, row in enumerate(rows, start=2))))
    if not tables:
        issues.append((path, 1, "no sheet with a `period` or `Series Name` header row", False))
    return tables


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_databank(header: list[str]) -> bool:
    """Say whether a header row is DataBank's corridor export."""
    keys = [header_key(h) for h in header]
    return all(k in keys for k in DATABANK)


def rpw_period(text: str) -> tuple[int, int] | None:
    """Return (year, quarter) from RPW's `2025_1Q`, or None."""
    found = RPW_PERIOD.match(text.strip())
    return (int(found[1]), int(found[2])) if found else None


def read_services(table: Table, issues: list[Issue]) -> list[ServiceRow]:
    """Read an RPW provider-row table; one issue per missing column or unreadable period."""
    path, header, rows = table
    index = _columns(header)
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        issues.append((path, 1, "missing required column(s): " + ", ".join(f"`{m}`" for m in missing), False))
        return []
    found = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
        period = rpw_period(values["period"])
        if period is None:
            issues.append((path, line, f"period `{values['period']}` is not like 2025_1Q", False))
            continue
        found.append(
            ServiceRow(
                path, line, period, values["source_code"].upper(), values["source_name"],
                values["destination_code"].upper(), values["destination_name"], values,
            )
        )  # fmt: skip
    return found


def _columns(header: list[str]) -> dict[str, int]:
    keys = [header_key(h) for h in header]
    index: dict[str, int] = {}
    for name in (*REQUIRED, *OPTIONAL):
        for spelling in ALIASES.get(name, (name,)):
            if spelling in keys:
                index[name] = keys.index(spelling)
                break
    return index


def read_series(table: Table, issues: list[Issue]) -> list[SeriesRow]:
    """Read a DataBank corridor export; `..` is no survey, anything else must be a number."""
    path, header, rows = table
    keys = [header_key(h) for h in header]
    wanted = (*DATABANK, "receiving countries name", "receiving countries code")
    missing = [k for k in wanted if k not in keys]
    if missing:
        issues.append((path, 1, "missing required column(s): " + ", ".join(f"`{m}`" for m in missing), False))
        return []
    names = {k: keys.index(k) for k in wanted}
    periods: dict[int, tuple[int, int]] = {}
    for i, cell in enumerate(header[6:], start=6):
        found = DATABANK_PERIOD.match(" ".join(cell.split()))
        if found:
            periods[i] = (int(found[1]), int(found[2]))
        elif cell.strip():
            issues.append((path, 1, f"column `{cell}` is not a quarter like `2020Q3 [YR2020Q3]`", False))
    found_rows: list[SeriesRow] = []
    for line, row in rows:
        if not any(text.strip() for text in row):
            break  # DataBank ends its data with a blank row, then "Data from database: ..." lines
        cells = {k: (row[i].strip() if i < len(row) else "") for k, i in names.items()}
        series = next((key for key, pattern in SERIES if pattern.search(cells["series name"])), None)
        if series is None:
            issues.append((path, line, f"series `{cells['series name']}` is not one Waypost reads (skipped)", True))
            continue
        record = SeriesRow(
            path, line, series, cells["sending countries code"].upper(), cells["sending countries name"],
            cells["receiving countries code"].upper(), cells["receiving countries name"],
        )  # fmt: skip
        for i, period in periods.items():
            raw = row[i].strip() if i < len(row) else ""
            if raw in ("", ".."):
                continue
            value = number(raw)
            if value is None:
                issues.append((path, line, f"`{raw}` for {period[0]}Q{period[1]} is not a number or `..`", False))
            else:
                record.values[period] = value
        found_rows.append(record)
    return found_rows
