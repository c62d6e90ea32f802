"""Remittance prices: the readers' checks, the World Bank method, the age ladder, the pages."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from app import kiosk_state
from app import remittance_method as method
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.distribution.publish import pieces

from .helpers import LANGUAGES, ROOT, must, shown

SAMPLE = ROOT / "content" / "remittances"
HEADER = (SAMPLE / "rpw-sample.csv").read_text(encoding="utf-8").splitlines()[0]
GOOD = (SAMPLE / "rpw-sample.csv").read_text(encoding="utf-8").splitlines()[1]
D = Decimal


def with_prices(content_dir: Path, *rows: str, header: str = HEADER, name: str = "rpw.csv") -> Path:
    """Add the sample source.yaml and a price file of the given rows to a content folder."""
    folder = content_dir / "remittances"
    folder.mkdir(exist_ok=True)
    shutil.copy(SAMPLE / "source.yaml", folder / "source.yaml")
    (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder / name


def cells(row: str, **changes: str) -> str:
    names, values = HEADER.split(","), row.split(",")
    for key, value in changes.items():
        values[names.index(key.replace("_", " ") if key not in names else key)] = value
    return ",".join(values)


def messages(content_dir: Path) -> list[str]:
    return [str(p) for p in load_content(content_dir, today=date(2026, 12, 1)).problems if "remittances" in str(p)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cc1 total cost %": "abc"}, "`cc1 total cost %`: `abc` is not a number"),
        ({"destination_code": "QQQ"}, "unknown country code `QQQ`"),
        ({"cc1 lcu fee": "-1"}, "`cc1 lcu fee` is negative"),
        ({"cc1 total cost %": "9.5"}, "but fee share + FX margin is 2.87"),
        ({"period": "2026-Q1"}, "period `2026-Q1` is not like 2025_1Q"),
        ({"transparent": "maybe"}, "`transparent` must be yes or no"),
    ],
)
def test_each_bad_value_is_reported_with_its_line(content_dir: Path, changes: dict, message: str) -> None:
    path = with_prices(content_dir, GOOD, cells(GOOD, **changes))
    found = messages(content_dir)
    assert any(m.startswith(f"{path}:3: ") and message in m for m in found), found
    assert not any(f"{path}:2:" in m for m in found)
    assert load_content(content_dir).remittances is None  # nothing is built from a file with errors


def test_a_missing_column_is_reported_on_the_header_line(content_dir: Path) -> None:
    header = HEADER.replace("cc1 lcu fee,", "")
    path = with_prices(content_dir, header=header)
    assert f"{path}:1: missing required column(s): `cc1 lcu fee`" in messages(content_dir)


def test_kosovo_has_a_world_bank_code_that_is_not_iso(content_dir: Path) -> None:
    with_prices(content_dir, cells(GOOD, destination_code="XKX", destination_name="Kosovo"))
    assert messages(content_dir) == []


def test_old_prices_are_a_warning_not_an_error(content_dir: Path) -> None:
    path = with_prices(content_dir, GOOD)
    (content_dir / "remittances" / "source.yaml").write_text(
        (SAMPLE / "source.yaml").read_text(encoding="utf-8").replace("sample: true", "sample: false")
    )
    content = load_content(content_dir, today=date(2026, 12, 1))
    warnings = [str(p) for p in content.warnings if "remittances" in str(p)]
    assert warnings == [f"{path}:2: warning: the newest prices are from 2026 Q1, 3 quarters ago: "
                        "download the current RPW data (see content/README.md)"]  # fmt: skip
    assert not content.errors and content.remittances is not None


def test_the_databank_export_is_read_with_its_own_spacing(content_dir: Path) -> None:
    header = (
        "Sending Countries Name,Sending Countries Code,Series Name,Series Code,Receiving Countries  Name,"
        "Receiving Countries  Code,2020Q3 [YR2020Q3],2020Q4 [YR2020Q4]"
    )
    rows = ["France,FRA,Average cost of sending USD 200 (%),RPW.200,Morocco,MAR,7.5,..",
            "France,FRA,Average cost of sending USD 200 (%),RPW.200,Mali,MLI,x,.."]  # fmt: skip
    path = with_prices(content_dir, *rows, header=header, name="databank.csv")
    assert messages(content_dir) == [f"{path}:3: `x` for 2020Q4 is not a number or `..`".replace("2020Q4", "2020Q3")]
    with_prices(content_dir, rows[0], header=header, name="databank.csv")
    corridor = load_content(content_dir).remittances.corridors[0]
    assert corridor.key == "FRA-MAR" and corridor.costs == {((2020, 3), "cc1"): D("7.5")}


@pytest.mark.parametrize(
    ("amount", "fee", "rate", "interbank", "on_top", "received", "cost"),
    [
        ("200", "5", "0.97", "1", True, "194.00", "5.50"),  # 2.5 % fee + 3 % margin
        ("200", "5", "0.97", "1", False, "189.15", "5.43"),  # 10.85 lost of 200
        ("200", "0", "0.95", "1", True, "190.00", "5.00"),  # zero fee, the margin is all the cost
        ("160", "3", "85.5", "86.2", True, "13680.00", "2.69"),
        ("100", "0", "1.01", "1", True, "101.00", "-1.00"),  # a rate above interbank: a negative margin
    ],
)
def test_the_method_on_hand_checked_cases(amount, fee, rate, interbank, on_top, received, cost) -> None:
    shown = method.quote(D(amount), D(fee), D(rate), D(interbank), fee_on_top=on_top).shown()
    assert (shown["received"], shown["cost"]) == (received, cost)


def test_a_zero_fee_with_a_poor_rate_ranks_below_a_small_fee_with_a_fair_rate() -> None:
    zero_fee = method.arrives_for(D(200), D(0), D("0.93"))  # 186.00 arrives
    small_fee = method.arrives_for(D(200), D(3), D("0.99"))  # 195.03 arrives
    assert small_fee > zero_fee
    assert method.total_cost(D(200), D(0), D(7)) > method.total_cost(D(200), D(3), D(1))


def test_smart_needs_three_transparent_fast_accessible_services() -> None:
    def s(total: str, **kw) -> dict:
        return {"cc1_total": D(total), "transparent": True, "speed": "Same day", **kw}

    services = [s("1"), s("2"), s("3", speed="6 days or more"), s("4", transparent=False), s("5")]
    assert method.smart(services) == D("8") / 3
    assert method.smart(services[:2]) is None


@pytest.mark.parametrize(
    ("today", "months", "band"),
    [
        (date(2027, 1, 1), 0, "fresh"),
        (date(2027, 3, 31), 2, "fresh"),
        (date(2027, 4, 1), 3, "aging"),
        (date(2027, 10, 31), 9, "aging"),
        (date(2027, 11, 1), 10, "old"),
    ],
)
def test_the_age_ladder_at_each_threshold(today: date, months: int, band: str) -> None:
    assert method.months_old(2026, 4, today) == months
    assert method.age_band(months) == band


def test_the_issue_example_is_20_months() -> None:
    assert method.months_old(2025, 1, date(2026, 12, 1)) == 20


@pytest.fixture
def price_app(content_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from app.web import create_app

    shutil.copytree(SAMPLE, content_dir / "remittances")
    out = tmp_path / "prices.bundle"
    build_bundle(load_content(content_dir), out)
    return lambda **kw: create_app({"TESTING": True, "BUNDLE": str(out), **kw}), out


@pytest.mark.parametrize(
    ("clock", "band", "arrives"),
    [(datetime(2026, 12, 1, tzinfo=UTC), "fresh", True), (datetime(2027, 1, 2, tzinfo=UTC), "aging", False),
     (datetime(2027, 8, 1, tzinfo=UTC), "old", False)],
)  # fmt: skip
def test_corridor_pages_follow_the_age_ladder(price_app, monkeypatch, clock, band, arrives) -> None:
    make, _ = price_app
    monkeypatch.setattr(kiosk_state, "now", lambda: clock)
    html = make().test_client().get("/en/remittances/GBR-AFG").get_data(as_text=True)
    assert f'data-band="{band}"' in html
    assert ('<th scope="col">Arrives</th>' in html) is arrives
    assert ("Providers, best first" in html) is (band != "old")
    assert "Sample data" in html and "No advertising, no affiliate links" in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_in_every_language(price_app, monkeypatch, lang: str) -> None:
    make, _ = price_app
    monkeypatch.setattr(kiosk_state, "now", lambda: datetime(2026, 12, 1, tzinfo=UTC))
    client = make().test_client()
    direction = "rtl" if lang in ("ar", "fa") else "ltr"
    for url in (f"/{lang}/remittances/", f"/{lang}/remittances/FRA-MAR?amount=185&fee=2&rate=10.5&interbank=10.7"):
        html = client.get(url).get_data(as_text=True)
        assert f'<html lang="{lang}" dir="{direction}">' in html
    expected = {"en": "5.34%", "fr": "5,34", "es": "5,34", "uk": "5,34", "ar": "5.34", "fa": "5٫34"}[lang]
    assert expected in html  # the corridor's average, formatted for the locale
    assert client.get(f"/{lang}/remittances/NOT-ONE").status_code == 404


def test_search_finds_corridors_by_country_name_in_every_language(price_app) -> None:
    make, _ = price_app
    client = make().test_client()
    for query in ("Afghanistan", "أفغانستان", "افغانستان"):
        html = client.get("/en/remittances/", query_string={"q": query}).get_data(as_text=True)
        assert 'href="/en/remittances/GBR-AFG"' in html.split("All surveyed corridors")[0], query


def test_the_calculator_works_without_javascript_and_refuses_nonsense(price_app) -> None:
    make, _ = price_app
    client = make().test_client()
    html = client.get("/fr/remittances/GBR-AFG?amount=160&fee=3&rate=85,5&interbank=86.2").get_data(as_text=True)
    assert "2,69" in html and "13 680,00" in html.replace("\u202f", " ").replace("\xa0", " ")
    bad = client.get("/en/remittances/GBR-AFG?amount=abc&fee=-1&rate=0")
    assert bad.status_code == 200 and "Please check the numbers" in bad.get_data(as_text=True)


CASES = [
    ("200", "5", "0.97", "1", True), ("200", "5", "0.97", "1", False), ("160", "3", "85.5", "86.2", True),
    ("1 234,5", "7,25", "10.333", "10.41", False), ("۱۰۰", "۰", "٠٫٩٣", "1", True), ("0.01", "0", "3.335", "3.3350001", True),
    ("99.99", "0.015", "123.4567", "", True), ("500", "4.99", "277.77", "280.125", False), ("100", "0", "1.01", "1", True),
]  # fmt: skip


def test_python_and_javascript_agree_to_the_cent() -> None:
    script = ROOT / "app" / "web" / "static" / "remittance.js"
    js = (
        f"const m = require({json.dumps(str(script))}); const cases = {json.dumps([[*c[:4], str(c[4])] for c in CASES])};"
        "for (const [a, f, r, i, top] of cases) { const n = m.readNumber;"
        " const q = m.quote(n(a), n(f), n(r), i ? n(i) : null, top === 'True');"
        " console.log([q.paid, q.received, q.cost, q.fee_share, q.margin].join('|')); }"
    )
    out = subprocess.run(["node", "-e", js], capture_output=True, text=True, check=True).stdout.split()
    for line, (a, f, r, i, top) in zip(out, CASES, strict=True):
        amount, fee, rate = (must(method.reader_number(x)) for x in (a, f, r))
        q = method.quote(amount, fee, rate, method.reader_number(i) if i else None, fee_on_top=top).shown()
        assert line == "|".join(q[k] or "" for k in ("paid", "received", "cost", "fee_share", "margin")), (a, f, r, i)


def test_a_new_quarter_changes_only_that_corridors_object(content_dir: Path, tmp_path: Path, connect) -> None:
    shutil.copytree(SAMPLE, content_dir / "remittances")
    build_bundle(load_content(content_dir), tmp_path / "one.bundle")
    csv = content_dir / "remittances" / "rpw-sample.csv"
    new = [line.replace("2026_3Q", "2026_4Q") for line in csv.read_text().splitlines() if "2026_3Q,FRA" in line]
    csv.write_text(csv.read_text() + "\n".join(new) + "\n")
    build_bundle(load_content(content_dir), tmp_path / "two.bundle")
    before = {p.name: p.hash for p in pieces(connect(tmp_path / "one.bundle"))}
    after = {p.name: p.hash for p in pieces(connect(tmp_path / "two.bundle"))}
    assert {name for name in after if before.get(name) != after[name]} == {"corridor/FRA-MAR"}


def test_the_json_api_gives_corridors_and_the_calculator(price_app, monkeypatch) -> None:
    make, _ = price_app
    monkeypatch.setattr(kiosk_state, "now", lambda: datetime(2026, 12, 1, tzinfo=UTC))
    client = make().test_client()
    listed = client.get("/api/v1/fa/remittances").get_json()["corridors"]
    assert {c["corridor"] for c in listed} == {"DEU-XKX", "FRA-MAR", "GBR-AFG"}
    assert next(c for c in listed if c["corridor"] == "GBR-AFG")["destination_label"] == "افغانستان"
    one = client.get("/api/v1/en/remittances/GBR-AFG").get_json()
    assert one["age"] == {"year": 2026, "quarter": 3, "months": 2, "band": "fresh"}
    assert (
        one["services"][0]["firm"] == "Sample Transfer Co" and one["services"][0]["arrives"] == "13425.99"
    )  # (160 - 2.99) x 85.5104
    assert one["services"][-2]["firm"] == "Sample Zero-Fee App"  # no fee, a poor rate: near the bottom
    assert one["sample"] is True and "World Bank" in one["attribution"]
    quote = client.get("/api/v1/remittances/calculate?amount=200&fee=5&rate=0.97&interbank=1&fee_mode=taken")
    assert quote.get_json() == {"paid": "200.00", "sent": "195.00", "fee": "5.00", "received": "189.15",
                                "cost": "5.43", "fee_share": "2.50", "margin": "3.00"}  # fmt: skip
    bad = client.get("/api/v1/remittances/calculate?amount=x")
    assert bad.status_code == 400 and bad.get_json()["error"]["status"] == 400
    assert client.get("/api/v1/en/remittances/../../etc").status_code == 404
    assert client.get("/api/v1/en/remittances/GBR-ZZZ").get_json()["error"]["status"] == 404


def test_the_corridor_pack_is_one_file_without_script(price_app) -> None:
    make, _ = price_app
    response = make().test_client().get("/fa/remittances/GBR-AFG/pack.html")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert '<html lang="fa" dir="rtl">' in html and "<script" not in html and "<svg" in html
    sample = "Sample data: these prices are invented to show how the comparison works. They are not World Bank survey results."
    assert shown(sample, "fa") in html and "World Bank" in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_money_articles_link_to_the_comparison_only_when_there_are_prices(client, price_app) -> None:
    # `client` comes first: its bundle is built before `price_app` adds prices to the same folder.
    make, _ = price_app
    with_prices_html = make().test_client().get("/en/money/money-1").get_data(as_text=True)
    assert 'href="/en/remittances/"' in with_prices_html
    assert 'href="/en/remittances/"' not in client.get("/en/money/money-1").get_data(as_text=True)
    assert 'href="/en/remittances/"' not in make().test_client().get("/en/rights/rights-1").get_data(as_text=True)


def test_the_published_workbook_is_read_sheet_by_sheet_with_row_numbers(content_dir: Path) -> None:
    import openpyxl  # type: ignore[import-untyped]

    folder = content_dir / "remittances"
    folder.mkdir()
    shutil.copy(SAMPLE / "source.yaml", folder / "source.yaml")
    book = openpyxl.Workbook()
    legend = book.active
    legend.title = "Legend"
    legend.append(["field", "description"])  # the Legend sheet is not data
    data = book.create_sheet("Dataset (from Q2 2016)")
    for line in (HEADER, GOOD, cells(GOOD, cc1_lcu_fee="-2")):
        data.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in line.split(",")])
    book.save(folder / "rpw.xlsx")
    found = messages(content_dir)
    assert found == [f"{folder / 'rpw.xlsx'}[Dataset (from Q2 2016)]:3: `cc1 lcu fee` is negative (-2)"], found


def test_the_site_search_lists_corridors_by_country_name(price_app) -> None:
    make, _ = price_app
    client = make().test_client()
    html = client.get("/ar/search", query_string={"q": "أفغانستان"}).get_data(as_text=True)
    assert 'href="/ar/remittances/GBR-AFG"' in html
    assert "/remittances/" not in client.get("/ar/search", query_string={"q": "passport"}).get_data(as_text=True)
