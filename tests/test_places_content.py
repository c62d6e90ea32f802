"""Places and HSDS services in a content folder: every problem with its file and CSV line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.content.load import load_content

from .helpers import HSDS_30, PLACE_YAML, write_place

TODAY = date(2026, 12, 1)


def problems(content_dir: Path, place_yaml: str = PLACE_YAML, **files: str) -> list[str]:
    """Write the test place with some files replaced (None removes one); return its problems, relative paths."""
    chosen = {**HSDS_30, **{k.replace("__", "/").replace("_csv", ".csv"): v for k, v in files.items()}}
    write_place(content_dir, place_yaml=place_yaml, files={k: v for k, v in chosen.items() if v is not None})
    found = load_content(content_dir, today=TODAY).problems
    base = content_dir / "places" / "testville"
    return [str(p).replace(str(base) + "/", "") for p in found if str(p.path).startswith(str(base))]


def test_the_small_export_has_no_problems_and_loads_both_services(content_dir):
    assert problems(content_dir) == []
    content = load_content(content_dir, today=TODAY)
    (place,) = content.places
    assert [s["id"] for s in place.services] == ["svc-1", "svc-2"]
    legal = place.services[0]
    assert legal["phones"][0]["tel"] == "+493023125001"
    assert legal["locations"][0]["address"] == ["1 Test Street", "10001 Testville"]
    assert legal["schedules"][0]["rrule"] == "FREQ=WEEKLY;BYDAY=TH,FR"


SVC = "id,organization_id,name,description,status,assured_date\n"
SCH = "id,service_id,freq,byday,opens_at,closes_at,count,until,valid_to,timezone\n"
ERRORS = [
    ({"services_csv": "id,description\nsvc-1,x\n"}, "services/services.csv:1: missing required column 'name'"),
    ({"services_csv": SVC + "svc-1,org-1,Legal,x,active,2026-11-20\nsvc-2,org-1,,x,active,2026-11-20\n"},
     "services/services.csv:3: missing required value 'name'"),
    ({"services_csv": SVC + "svc-1,org-1,A,x,active,2026-11-20\nsvc-2,org-1,B,x,active,2026-11-20\n"
      "svc-1,org-1,C,x,active,2026-11-20\n"}, "services/services.csv:4: duplicate id 'svc-1' (first on line 2)"),
    ({"schedules_csv": SCH + "sch-1,svc-9,WEEKLY,MO,10:00,16:00,,,,\n"},
     "services/schedules.csv:2: service_id 'svc-9' is not in services.csv"),
    ({"service_at_location_csv": "id,service_id,location_id\nsal-1,svc-1,loc-1\nsal-2,svc-2,loc-7\n"},
     "services/service_at_location.csv:3: location_id 'loc-7' is not in locations.csv"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,MO,10:00,25:00,,,,\n"},
     "services/schedules.csv:2: closes_at: '25:00' is not a clock time (HH:MM, 00:00 to 23:59)"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,\"TH,XX\",10:00,16:00,,,,\n"},
     "services/schedules.csv:2: byday: unknown weekday 'XX' (use MO, TU, WE, TH, FR, SA, SU)"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,MO,10:00,16:00,3,2027-01-01,,\n"},
     "services/schedules.csv:2: RFC 5545 forbids count and until in the same rule"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,1MO,10:00,16:00,,,,\n"},
     "services/schedules.csv:2: byday: RFC 5545 allows a number before a day ('1MO') only with freq MONTHLY or YEARLY"),
    ({"schedules_csv": SCH + "sch-1,svc-1,FORTNIGHTLY,MO,10:00,16:00,,,,\n"},
     "services/schedules.csv:2: freq: 'FORTNIGHTLY' is not an RFC 5545 frequency (HSDS uses WEEKLY or MONTHLY)"),
    ({"locations_csv": "id,location_type,name,latitude,longitude\nloc-1,physical,Hall,95,13.4\n"},
     "services/locations.csv:2: latitude '95' is not between -90 and 90"),
    ({"locations_csv": "id,location_type,name,latitude,longitude\nloc-1,physical,Hall,52.5,-190\n"},
     "services/locations.csv:2: longitude '-190' is not between -180 and 180"),
    ({"languages_csv": "id,service_id,code\nl-1,svc-1,ar\nl-2,svc-1,zz\n"},
     "services/languages.csv:3: unknown language code 'zz' (use ISO 639-1 or 639-3, such as 'ar')"),
    ({"phones_csv": "id,service_id,number\nph-1,svc-1,12\n"},
     "services/phones.csv:2: phone number '12' cannot be dialled in DE"),
    ({"regular_schedules_csv": "id,service_id,weekday,opens_at,closes_at\nr-1,svc-1,Funday,09:00,12:00\n"},
     "services/regular_schedules.csv:2: weekday: unknown weekday 'Funday'"),
    ({"translations__fr_csv": "id,name\nsvc-1,Clinique\nsvc-5,Rien\n"},
     "services/translations/fr.csv:3: id 'svc-5' is not in services.csv"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "expected"), ERRORS, ids=lambda v: str(v)[:40])
def test_each_error_is_reported_with_its_csv_line(content_dir, files, expected):
    found = problems(content_dir, **files)
    assert expected in found, found
    assert load_content(content_dir, today=TODAY).errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("country: DE", "country: XX"), "place.yaml:4: country 'XX' is not an ISO 3166-1 alpha-2 code such as 'DE'"),
        (("Europe/Berlin", "Europe/Atlantis"), "place.yaml:5: timezone 'Europe/Atlantis' is not an IANA time zone"),
        (('number: "112"', 'number: "19"'), "place.yaml:8: emergency number '19' cannot be dialled in DE"),
        (("  ar: مدينة", "  xx: مدينة"), "place.yaml:3: unknown language 'xx'"),
        (("source: https://", "source: http://"), "place.yaml:11: source: an official https:// page"),
    ],
)
def test_each_place_yaml_error_names_its_line(content_dir, change, expected):
    found = problems(content_dir, place_yaml=PLACE_YAML.replace(*change))
    assert any(p.startswith(expected) for p in found), found


WARNINGS = [
    ({"services_csv": SVC + "svc-1,org-9,A,x,active,2026-11-20\nsvc-2,org-1,B,x,active,2026-11-20\n"},
     "services/services.csv:2: warning: organization_id 'org-9' is not in organizations.csv"),
    ({"contacts_csv": "id,organization_id,name\nc-1,org-7,Ana\n"},
     "services/contacts.csv:2: warning: organization_id 'org-7' is not in organizations.csv"),
    ({"taxonomy_terms_csv": "id,name,description,parent_id\nt-1,Legal,x,t-0\n"},
     "services/taxonomy_terms.csv:2: warning: parent_id 't-0' is not a taxonomy term"),
    ({"attributes_csv": "id,link_id,taxonomy_term_id,link_entity\na-1,svc-1,t-9,service\n"},
     "services/attributes.csv:2: warning: taxonomy_term_id 't-9' is not a taxonomy term"),
    ({"addresses_csv": HSDS_30["addresses.csv"].replace(",DE,", ",FR,")},
     "services/addresses.csv:2: warning: address in FR, not in DE"),
    ({"services_csv": "id,name,url,assured_date\nsvc-1,A,http://example.org/,2026-11-20\nsvc-2,B,,2026-11-20\n"},
     "services/services.csv:2: warning: url: 'http://example.org/' is not https; it is shown as text, not as a link"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,MO,10:00,16:00,,,2026-06-30,\n"},
     "services/schedules.csv:2: warning: this schedule ended on 2026-06-30; it is not shown as current hours"),
    ({"schedules_csv": SCH + "sch-1,svc-1,WEEKLY,MO,10:00,16:00,,,,-5\n"},
     "services/schedules.csv:2: warning: timezone offset -5 h disagrees with Europe/Berlin"),
    ({"services_csv": SVC + "svc-1,org-1,A,x,active,2026-05-01\nsvc-2,org-1,B,x,active,2026-11-20\n"},
     "services/services.csv:2: warning: not checked since 2026-05-01 (more than 6 months)"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "expected"), WARNINGS, ids=lambda v: str(v)[:40])
def test_messy_exports_give_warnings_not_errors(content_dir, files, expected):
    found = problems(content_dir, **files)
    assert any(p.startswith(expected) for p in found), found
    assert load_content(content_dir, today=TODAY).errors == []


def test_an_old_emergency_number_check_is_a_warning(content_dir):
    found = problems(content_dir, place_yaml=PLACE_YAML.replace("checked: 2026-11-20", "checked: 2026-01-02"))
    assert "place.yaml:12: warning: not checked since 2026-01-02 (more than 6 months)" in found


def test_unknown_extra_columns_are_ignored(content_dir):
    extra = HSDS_30["services.csv"].replace("assured_date\n", "assured_date,x_internal_note\n")
    extra = extra.replace("2026-11-20\n", "2026-11-20,secret\n")
    assert problems(content_dir, services_csv=extra) == []


def test_the_hsds_1x_datapackage_layout_is_read(content_dir):
    files = {k: v for k, v in HSDS_30.items() if k not in ("schedules.csv", "addresses.csv")}
    files["physical_addresses.csv"] = (
        "id,location_id,address_1,city,state_province,postal_code,country\n"
        "pa-1,loc-1,2 Old Street,Testville,Berlin,10002,DE\n"
    )
    files["regular_schedules.csv"] = (
        "id,service_id,weekday,opens_at,closes_at\nr-1,svc-1,Thursday,09:00,12:00\nr-2,svc-1,5,22:00,02:00\n"
    )
    files["holiday_schedules.csv"] = (
        "id,service_id,closed,opens_at,closes_at,start_date,end_date\nh-1,svc-1,true,,,2026-12-24,2026-12-26\n"
    )
    files["languages.csv"] = "id,service_id,language\nl-1,svc-1,fa\n"
    write_place(content_dir, files=files)
    content = load_content(content_dir, today=TODAY)
    assert content.errors == [], [str(p) for p in content.errors]
    legal = content.places[0].services[0]
    assert legal["locations"][0]["address"][0] == "2 Old Street"
    assert [r["rrule"] for r in legal["schedules"]] == ["FREQ=WEEKLY;BYDAY=TH", "FREQ=WEEKLY;BYDAY=FR", None]
    assert legal["schedules"][2]["closed"] and legal["languages"] == ["fa"]


def test_nothing_is_written_when_a_csv_has_an_error(content_dir, tmp_path):
    write_place(content_dir, files={**HSDS_30, "phones.csv": "id,service_id,number\nph-1,svc-1,12\n"})
    out = tmp_path / "out.bundle"
    result = CliRunner().invoke(main, ["build", str(content_dir), "-o", str(out)])
    assert result.exit_code != 0
    assert "services/phones.csv:2: phone number '12' cannot be dialled in DE" in result.output
    assert not out.exists()
