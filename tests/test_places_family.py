"""Places inside places: parents checked (unknown, loops), the list as a tree, breadcrumbs, inherited emergency numbers."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

from .helpers import LANGUAGES, PLACE_YAML, shown, write_content, write_place

TODAY = date(2026, 12, 1)
RTL = {"ar", "fa"}
COUNTRY = PLACE_YAML.replace("  en: Testville\n  ar: مدينة الاختبار\n", "  en: Testland\n  fr: Pays test\n")


def city(name: str, parent: str | None, emergency: bool = False) -> str:
    """Return a place.yaml: a place in Germany, inside `parent`, with or without numbers of its own."""
    text = f"name:\n  en: {name}\ncountry: DE\ntimezone: Europe/Berlin\n"
    if parent:
        text += f"parent: {parent}\n"
    if emergency:
        text += PLACE_YAML[PLACE_YAML.index("emergency:") :].replace('"112"', '"110"')
    return text


def write_yaml(content_dir: Path, place_id: str, text: str) -> None:
    """Write a place without services: only its place.yaml."""
    (content_dir / "places" / place_id).mkdir(parents=True)
    (content_dir / "places" / place_id / "place.yaml").write_text(text, encoding="utf-8")


def parent_problems(content_dir: Path, places: dict[str, str]) -> list[str]:
    for place_id, text in places.items():
        write_yaml(content_dir, place_id, text)
    found = load_content(content_dir, today=TODAY).problems
    return [str(p).replace(str(content_dir / "places") + "/", "") for p in found if "places" in str(p.path)]


def test_an_unknown_parent_is_an_error_at_its_line(content_dir):
    found = parent_problems(content_dir, {"testville": city("Testville", "atlantis")})
    assert "testville/place.yaml:5: parent 'atlantis' is not a place (there is no places/atlantis/place.yaml)" in found
    assert load_content(content_dir, today=TODAY).errors


def test_a_loop_of_parents_is_an_error_at_each_parent_line(content_dir):
    found = parent_problems(
        content_dir, {"a-town": city("A", "b-town"), "b-town": city("B", "c-town"), "c-town": city("C", "a-town")}
    )
    loop = "the places form a loop ({}); a place cannot be inside itself"
    assert f"a-town/place.yaml:5: parent: {loop.format('a-town -> b-town -> c-town -> a-town')}" in found
    assert f"c-town/place.yaml:5: parent: {loop.format('c-town -> a-town -> b-town -> c-town')}" in found
    assert len([p for p in found if "loop" in p]) == 3


def test_a_place_inside_itself_is_a_loop(content_dir):
    found = parent_problems(content_dir, {"testville": city("Testville", "testville")})
    assert any(
        p.startswith("testville/place.yaml:5: parent: the places form a loop (testville -> testville)") for p in found
    )


def test_a_parent_that_is_not_a_folder_name_is_an_error(content_dir):
    found = parent_problems(content_dir, {"testville": city("Testville", "Not A Place!")})
    assert "testville/place.yaml:5: parent: the folder name of the place this one is inside, such as 'germany'" in found


def test_a_valid_tree_has_no_problems(content_dir):
    assert parent_problems(content_dir, {"testland": COUNTRY, "testville": city("Testville", "testland")}) == []


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """Testland (112) > Testville (no numbers) > Old Town (no numbers); Bigport, in Testland, has its own (110)."""
    folder = tmp_path_factory.mktemp("family")
    content_dir = write_content(folder / "content")
    write_yaml(content_dir, "testland", COUNTRY)
    write_place(content_dir, "testville", city("Testville", "testland"))
    write_yaml(content_dir, "old-town", city("Old Town", "testville"))
    write_yaml(content_dir, "bigport", city("Bigport", "testland", emergency=True))
    loaded = load_content(content_dir, today=TODAY)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    build_bundle(loaded, folder / "family.bundle")
    return create_app({"TESTING": True, "BUNDLE": str(folder / "family.bundle")}).test_client()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_place_list_shows_children_under_their_parent_in_every_language(family, lang):
    html = family.get(f"/{lang}/places/").get_data(as_text=True)
    assert re.search(rf'<html lang="{lang}" dir="{"rtl" if lang in RTL else "ltr"}">', html)
    listed = html[html.index('<ul class="cards places">') : html.index("</main>")]
    country = "Pays test" if lang == "fr" else "Testland"
    # Testland's item holds the list of Bigport and Testville (by name), and Testville's holds Old Town.
    pattern = (
        rf'<li><a href="/{lang}/places/testland/"[^>]*>{country}</a>\s*<ul class="inside">'
        rf'\s*<li><a href="/{lang}/places/bigport/"[^>]*>Bigport</a>\s*</li>'
        rf'\s*<li><a href="/{lang}/places/testville/"[^>]*>Testville</a>\s*<ul class="inside">'
        rf'\s*<li><a href="/{lang}/places/old-town/"[^>]*>Old Town</a>\s*</li>\s*</ul></li>\s*</ul></li>'
    )
    assert re.search(pattern, listed), listed
    # A name shown in another language than the page's keeps its own lang and dir.
    if lang != "en":
        assert f'href="/{lang}/places/bigport/" lang="en" dir="ltr">Bigport' in listed


def test_a_place_page_has_a_breadcrumb_to_its_parents(family):
    html = family.get("/fr/places/old-town/").get_data(as_text=True)
    crumbs = re.search(r'<nav class="crumbs" aria-label="([^"]+)">(.*?)</nav>', html, re.S)
    assert crumbs and crumbs[1] == shown("You are here", "fr")
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', crumbs[2])
    assert links == [("/fr/places/", shown("Local help", "fr")), ("/fr/places/testland/", "Pays test"),
                     ("/fr/places/testville/", "Testville")]  # fmt: skip
    assert 'href="/fr/places/testville/" lang="en" dir="ltr">Testville' in crumbs[2]
    for url, _name in links:
        assert family.get(url).status_code == 200


@pytest.mark.parametrize("place_id", ["testville", "old-town"])
def test_a_place_without_numbers_shows_its_countrys_and_says_so(family, place_id):
    html = family.get(f"/en/places/{place_id}/").get_data(as_text=True)
    section = html[html.index('id="emergency-title"') : html.index("</section>")]
    assert 'href="tel:112"' in section
    assert (
        '<p class="inherited">These are the emergency numbers of <a href="/en/places/testland/">Testland</a>.'
        " They work here too.</p>" in section
    )
    poster = family.get(f"/en/places/{place_id}/poster").get_data(as_text=True)
    assert '<span class="number" dir="ltr">112</span>' in poster
    assert '<p class="inherited">These are the emergency numbers of <span>Testland</span>.' in poster


def test_a_place_with_its_own_numbers_shows_only_those(family):
    html = family.get("/en/places/bigport/").get_data(as_text=True)
    assert 'href="tel:110"' in html and 'href="tel:112"' not in html and 'class="inherited"' not in html
    country = family.get("/en/places/testland/").get_data(as_text=True)
    assert 'class="inherited"' not in country and 'href="tel:112"' in country


def test_the_inherited_numbers_are_in_the_pack_without_a_link_to_the_server(family):
    html = family.get("/ar/places/testville/pack.html").get_data(as_text=True)
    assert 'href="tel:112"' in html
    assert '<span lang="en" dir="ltr">Testland</span>' in html
    assert not re.search(r'(src|href)="/(?!/)', html)


def test_a_country_page_lists_the_places_inside_it(family):
    html = family.get("/en/places/testland/").get_data(as_text=True)
    inside = html[html.index('id="inside-title"') : html.index("</section>", html.index('id="inside-title"'))]
    assert re.findall(r'href="/en/places/([a-z-]+)/"', inside) == ["bigport", "testville"]


def test_the_api_gives_parent_ancestors_children_and_whose_numbers(family):
    body = json.loads(family.get("/api/v1/fr/places/old-town").data)
    assert body["parent"] == "testville"
    assert [a["id"] for a in body["ancestors"]] == ["testland", "testville"]
    assert body["ancestors"][0]["name"] == {"text": "Pays test", "lang": "fr"}
    assert body["emergency_from"] == {"id": "testland", "name": {"text": "Pays test", "lang": "fr"}}
    assert [e["tel"] for e in body["emergency"]] == ["112"]
    country = json.loads(family.get("/api/v1/en/places/testland").data)
    assert country["parent"] is None and country["emergency_from"] is None
    assert [c["id"] for c in country["children"]] == ["bigport", "testville"]
