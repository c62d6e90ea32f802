"""Opening hours from HSDS schedules: RRULEs, validity, closures and overnight openings, in the place's zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app import kiosk_state
from app.bundle.build import build_bundle
from app.bundle.places import week
from app.content.hours import rule
from app.content.load import load_content
from app.web import create_app

from .helpers import HSDS_30, PLACE_YAML, must, write_content, write_place

SCH = "id,service_id,freq,byday,opens_at,closes_at,valid_from,valid_to\n"


def rules(*rows: dict[str, str], kind: str = "schedules", today: date = date(2026, 12, 1)) -> list[dict]:
    made = [rule(r, kind, "Europe/Berlin", today, lambda m, w: None) for r in rows]
    return [r for r in made if r is not None]


def hours_by_day(found: list[dict]) -> dict[str, str]:
    return {d["date"]: "closed" if d["closed"] else ",".join(f"{h['opens']}-{h['closes']}" for h in d["hours"])
            for d in found}  # fmt: skip


def test_weekly_on_thursday_and_friday():
    found = week(
        rules({"freq": "WEEKLY", "byday": "TH,FR", "opens_at": "10:00", "closes_at": "16:00"}), date(2026, 12, 1)
    )
    assert hours_by_day(found) == {
        "2026-12-01": "closed", "2026-12-02": "closed", "2026-12-03": "10:00-16:00", "2026-12-04": "10:00-16:00",
        "2026-12-05": "closed", "2026-12-06": "closed", "2026-12-07": "closed",
    }  # fmt: skip
    assert found[0]["today"] and not found[1]["today"]


def test_a_rule_counts_only_between_valid_from_and_valid_to():
    found = week(rules({"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "09:00", "closes_at": "12:00",
                        "valid_from": "2026-12-02", "valid_to": "2026-12-03"}), date(2026, 12, 1))  # fmt: skip
    assert [d["date"] for d in found if not d["closed"]] == ["2026-12-02", "2026-12-03"]


def test_a_holiday_closure_wins_over_the_regular_hours():
    regular = {"freq": "WEEKLY", "byday": "TH,FR", "opens_at": "10:00", "closes_at": "16:00"}
    closure = {"closed": "true", "start_date": "2026-12-04", "end_date": "2026-12-04", "description": "Holiday"}
    found = week(rules(regular) + rules(closure, kind="holiday"), date(2026, 12, 1))
    friday = next(d for d in found if d["date"] == "2026-12-04")
    assert friday["closed"] and friday["notes"] == ["Holiday"]
    assert hours_by_day(found)["2026-12-03"] == "10:00-16:00"


def test_a_closing_time_before_the_opening_time_is_an_overnight_opening():
    (night,) = rules({"freq": "WEEKLY", "byday": "SA", "opens_at": "22:00", "closes_at": "06:00"})
    day = next(d for d in week([night], date(2026, 12, 1)) if d["date"] == "2026-12-05")
    assert day["hours"] == [{"opens": "22:00", "closes": "06:00", "overnight": True}]


def test_monthly_rules_with_numbered_days():
    found = week(
        rules({"freq": "MONTHLY", "byday": "1SA", "opens_at": "10:00", "closes_at": "12:00"}), date(2026, 12, 1)
    )
    assert [d["date"] for d in found if not d["closed"]] == ["2026-12-05"]


def test_local_clock_times_stay_put_across_a_dst_change():
    # Europe/Berlin leaves summer time on Sunday 25 October 2026: 09:00 is still 09:00.
    found = week(rules({"freq": "WEEKLY", "byday": "SA,SU,MO", "opens_at": "09:00", "closes_at": "12:00"}),
                 date(2026, 10, 23))  # fmt: skip
    assert {d["date"]: hours_by_day(found)[d["date"]] for d in found if not d["closed"]} == {
        "2026-10-24": "09:00-12:00", "2026-10-25": "09:00-12:00", "2026-10-26": "09:00-12:00",
    }  # fmt: skip


@pytest.fixture
def zoned_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Return a test client over a bundle holding the test place in a given zone, its clock fixed at `at`."""

    def make(zone: str, country: str, at: datetime, schedules: str):
        content_dir = write_content(tmp_path / zone.replace("/", "-"))
        phone = {"DE": "030 23125 001", "NZ": "09 300 1234", "US": "(212) 555-0123"}[country]
        place = PLACE_YAML.replace("Europe/Berlin", zone).replace("country: DE", f"country: {country}")
        place = place.replace('"112"', '"' + {"DE": "112", "NZ": "111", "US": "911"}[country] + '"')
        files = {**HSDS_30, "schedules.csv": schedules, "phones.csv": f"id,service_id,number\nph-1,svc-1,{phone}\n"}
        files["addresses.csv"] = files["addresses.csv"].replace(",DE,", f",{country},")
        write_place(content_dir, place_yaml=place, files=files)
        content = load_content(content_dir, today=at.date())
        assert not content.errors, [str(p) for p in content.errors]
        out = tmp_path / f"{country}.bundle"
        build_bundle(content, out)
        monkeypatch.setattr(kiosk_state, "now", lambda: at)
        return create_app({"TESTING": True, "BUNDLE": str(out)}).test_client()

    return make


TODAY_ROW = re.compile(r'<tr class="today"><th scope="row">([^<]+)<strong>.*?<td>(.*?)</td>', re.S)


@pytest.mark.parametrize(
    ("zone", "country", "weekday", "hours"),
    [
        # 20:00 UTC on Thursday 3 December 2026: already Friday in Auckland (UTC+13), noon Thursday in Los Angeles.
        ("Pacific/Auckland", "NZ", "Friday", "10:00–16:00"),
        ("America/Los_Angeles", "US", "Thursday", "09:00–11:00"),
        ("Europe/Berlin", "DE", "Thursday", "09:00–11:00"),
    ],
)
def test_today_is_the_date_in_the_places_own_zone(zoned_app, zone, country, weekday, hours):
    schedules = SCH + "s-1,svc-1,WEEKLY,TH,09:00,11:00,,\ns-2,svc-1,WEEKLY,FR,10:00,16:00,,\n"
    client = zoned_app(zone, country, datetime(2026, 12, 3, 20, 0, tzinfo=UTC), schedules)
    page = client.get("/en/places/testville/services/svc-1").get_data(as_text=True)
    day, shown = must(TODAY_ROW.search(page)).groups()
    assert day.startswith(weekday) and hours in shown


def test_the_week_across_new_yorks_dst_change_keeps_its_clock_times(zoned_app):
    # New York leaves daylight time on Sunday 7 November 2027 (a date after the bundle's build, the clock's floor).
    schedules = SCH + 's-1,svc-1,WEEKLY,"SA,SU,MO",08:30,17:00,,\n'
    client = zoned_app("America/New_York", "US", datetime(2027, 11, 5, 15, 0, tzinfo=UTC), schedules)
    page = client.get("/en/places/testville/services/svc-1").get_data(as_text=True)
    for day in ("Saturday, November 6, 2027", "Sunday, November 7, 2027", "Monday, November 8, 2027"):
        assert re.search(day + r"</th>\s*<td><span dir=\"ltr\">08:30–17:00</span>", page), day
