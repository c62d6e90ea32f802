"""A place's own contact (place.yaml `contact:`) checked and shown, the "near me" markup and its Permissions-Policy."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from app.bundle import read
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

from .helpers import PLACE_YAML, write_content, write_place

TODAY = date(2026, 12, 1)
CONTACT = """contact:
  name:
    en: Welcome desk
    fr: Accueil
  phone: "030 23125 010"
  email: desk@example.org
  url: http://old.example.org/desk
  address:
    - Park Street 1
    - 10115 Testville
  hours:
    en: Monday to Friday, 9:00 to 17:00
"""
# Services in two categories, names out of alphabetical order in the files, at known places in Berlin.
NEAR = {
    "services.csv": "id,name,description,status,assured_date,category\n"
    "svc-z,Zebra legal help,x,active,2026-11-20,legal-aid\n"
    "svc-f,Food for all,x,active,2026-11-20,food\n"
    "svc-a,Anchor legal help,x,active,2026-11-20,legal-aid\n"
    "svc-n,Nowhere legal help,x,active,2026-11-20,legal-aid\n"
    "svc-b,bread corner,x,active,2026-11-20,food\n",
    "locations.csv": "id,location_type,name,latitude,longitude\n"
    "loc-west,physical,West,52.5000,13.2000\nloc-east,physical,East,52.5000,13.6000\n",
    "service_at_location.csv": "id,service_id,location_id\n"
    "s1,svc-z,loc-east\ns2,svc-a,loc-west\ns3,svc-f,loc-west\ns4,svc-b,loc-east\n",
}


def contact_problems(content_dir: Path, contact: str) -> list[str]:
    write_place(content_dir, place_yaml=PLACE_YAML + contact)
    found = load_content(content_dir, today=TODAY).problems
    return [str(p).split("/places/testville/")[-1] for p in found if "testville" in str(p.path)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('"030 23125 010"', '"12"'), "place.yaml:17: contact phone number '12' cannot be dialled in DE"),
        (('phone: "030 23125 010"', 'phone:\n    - "030 23125 010"\n    - "0000"'),
         "place.yaml:19: contact phone number '0000' cannot be dialled in DE"),
        (("desk@example.org", "desk at example"), "place.yaml:18: contact.email: 'desk at example' is not an e-mail"),
        (("  hours:", "  opening:"), "place.yaml:23: contact: unknown field 'opening'"),
        (("    fr: Accueil\n", "    xx: Accueil\n"), "place.yaml:16: unknown language 'xx'"),
        (("    en: Welcome desk\n", ""), "place.yaml:14: contact.name needs a text in 'en'"),
    ],
)  # fmt: skip
def test_each_contact_error_names_its_line(content_dir, change, expected):
    found = contact_problems(content_dir, CONTACT.replace(*change))
    assert any(p.startswith(expected) for p in found), found
    assert load_content(content_dir, today=TODAY).errors


def test_an_http_contact_address_is_a_warning_not_an_error(content_dir):
    found = contact_problems(content_dir, CONTACT)
    assert found == [
        "place.yaml:19: warning: contact.url: 'http://old.example.org/desk' is not https; "
        "it is shown as text, not as a link"
    ]
    assert load_content(content_dir, today=TODAY).errors == []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contact")
    content_dir = write_content(folder / "content")
    write_place(content_dir, place_yaml=PLACE_YAML + CONTACT, files=NEAR)
    write_place(content_dir, "plainville")
    loaded = load_content(content_dir, today=TODAY)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    build_bundle(loaded, folder / "contact.bundle")
    return create_app({"TESTING": True, "BUNDLE": str(folder / "contact.bundle")}).test_client()


def contact_section(html: str) -> str:
    start = html.index('<section class="contact"')
    return html[start : html.index("</section>", start)]


def test_the_place_page_shows_the_contact_as_links(site):
    section = contact_section(site.get("/en/places/testville/").get_data(as_text=True))
    assert '<p class="lead">Welcome desk</p>' in section
    assert '<a class="tel" href="tel:+493023125010"><span dir="ltr">030 23125 010</span></a>' in section
    assert '<a href="mailto:desk@example.org" dir="ltr">desk@example.org</a>' in section
    # An http:// address is text, never a link.
    assert '<span dir="ltr">http://old.example.org/desk</span>' in section and 'href="http://' not in section
    assert "<address>Park Street 1<br>10115 Testville</address>" in section
    assert "Monday to Friday, 9:00 to 17:00" in section


def test_an_untranslated_contact_text_keeps_its_own_language(site):
    section = contact_section(site.get("/ar/places/testville/").get_data(as_text=True))
    assert '<p lang="en" dir="ltr">Monday to Friday, 9:00 to 17:00</p>' in section
    assert '<address lang="en" dir="ltr">' in section
    french = contact_section(site.get("/fr/places/testville/").get_data(as_text=True))
    assert '<p class="lead">Accueil</p>' in french


def test_the_place_pack_holds_the_contact(site):
    html = site.get("/en/places/testville/pack.html").get_data(as_text=True)
    assert 'href="tel:+493023125010"' in html and 'href="mailto:desk@example.org"' in html
    assert "<script" not in html
    # In the place page's order: legal help before food, then by name.
    titles = re.findall(r'<article class="pack" id="s-\d+">\n<h2[^>]*>([^<]+)</h2>', html)
    assert titles == ["Anchor legal help", "Nowhere legal help", "Zebra legal help", "bread corner", "Food for all"]


def test_the_api_gives_the_contact(site):
    body = json.loads(site.get("/api/v1/fr/places/testville").data)
    assert body["contact"] == {
        "name": {"text": "Accueil", "lang": "fr"},
        "phones": [{"number": "030 23125 010", "tel": "+493023125010"}],
        "email": "desk@example.org",
        "url": {"text": "http://old.example.org/desk", "link": False},
        "address": ["Park Street 1", "10115 Testville"],
        "address_lang": "en",
        "hours": {"text": "Monday to Friday, 9:00 to 17:00", "lang": "en"},
    }


def test_a_place_without_contact_shows_no_contact_section(site):
    html = site.get("/en/places/plainville/").get_data(as_text=True)
    assert 'id="emergency-title"' in html and 'class="contact"' not in html
    assert json.loads(site.get("/api/v1/en/places/plainville").data)["contact"] == {}


def test_without_javascript_services_are_by_category_then_name_with_their_coordinates(site):
    html = site.get("/en/places/testville/").get_data(as_text=True)
    # legal-aid comes before food in the category order; names alphabetical within each, whatever their case.
    assert re.findall(r'/services/(svc-\w)"', html) == ["svc-a", "svc-n", "svc-z", "svc-b", "svc-f"]
    assert '<li data-at="52.5,13.2"><a href="/en/places/testville/services/svc-a"' in html
    assert '<li><a href="/en/places/testville/services/svc-n"' in html  # no location, no coordinates
    # The "near me" control is inert markup (a template) until near.js shows it.
    assert '<template id="wp-near">' in html and re.search(r'<script src="/static/\w+/near.js" defer>', html)
    assert html.index('<template id="wp-near">') < html.index("<button", html.index('<template id="wp-near">'))
    category = site.get("/en/places/testville/in/legal-aid").get_data(as_text=True)
    assert "data-at" not in category and "near.js" not in category


GEOLOCATION_SELF = "geolocation=(self), camera=(), microphone=(), interest-cohort=()"
ALL_DENIED = "geolocation=(), camera=(), microphone=(), interest-cohort=()"


@pytest.mark.parametrize(
    ("url", "policy"),
    [("/en/places/testville/", GEOLOCATION_SELF), ("/ar/places/testville/", GEOLOCATION_SELF),
     ("/en/places/", ALL_DENIED), ("/en/places/testville/services/svc-a", ALL_DENIED),
     ("/en/places/testville/in/food", ALL_DENIED), ("/en/places/testville/pack.html", ALL_DENIED),
     ("/en/places/testville/poster", ALL_DENIED), ("/en/", ALL_DENIED), ("/api/v1/en/places/testville", ALL_DENIED),
     ("/en/places/nowhere/", ALL_DENIED)],
)  # fmt: skip
def test_only_a_place_page_lets_its_own_origin_ask_for_the_location(site, url, policy):
    first = site.get(url)
    assert first.headers["Permissions-Policy"] == policy
    # The response cache keeps the header as the page set it.
    assert site.get(url).headers["Permissions-Policy"] == policy


def test_the_content_digest_covers_the_contact(content_dir, tmp_path):
    digests: list[str] = []
    for number in ("030 23125 010", "030 23125 011", "030 23125 010"):
        write_place(content_dir, place_yaml=PLACE_YAML + CONTACT.replace("030 23125 010", number))
        out = tmp_path / f"{len(digests)}.bundle"
        build_bundle(load_content(content_dir, today=TODAY), out)
        conn = read.connect(out)
        digests.append(read.meta(conn)["content_digest"])
        assert json.loads(conn.execute("SELECT contact FROM places").fetchone()[0])["phones"][0]["number"] == number
        conn.close()
    assert digests[0] != digests[1] and digests[0] == digests[2]
