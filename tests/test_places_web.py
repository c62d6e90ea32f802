"""Local help as readers get it: place and service pages in every language, tel: links, search, API, pack, poster."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from app.bundle.build import build_bundle
from app.categories import CATEGORIES
from app.content.load import load_content
from app.web import create_app
from app.web.places import CATEGORY_NAMES

from .helpers import HSDS_30, LANGUAGES, ROOT, shown, write_place

RTL = {"ar", "fa"}


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory) -> Path:
    """The shipped content, with its sample place example-city, built by the real builder."""
    content = load_content(ROOT / "content", today=date(2026, 12, 1))
    assert not content.errors
    out = tmp_path_factory.mktemp("demo") / "demo.bundle"
    build_bundle(content, out)
    return out


@pytest.fixture
def demo(demo_bundle):
    return create_app({"TESTING": True, "BUNDLE": str(demo_bundle), "PUBLIC_URL": "https://kiosk.example.org/"})


def page_urls(client) -> list[str]:
    services = json.loads(client.get("/api/v1/en/places/example-city").data)["services"]
    urls = ["/{lang}/places/", "/{lang}/places/example-city/", "/{lang}/places/example-city/in/legal-aid",
            "/{lang}/places/example-city/pack.html", "/{lang}/places/example-city/poster"]  # fmt: skip
    return urls + [f"/{{lang}}/places/example-city/services/{s['id']}" for s in services]


def test_every_category_has_a_name():
    assert set(CATEGORY_NAMES) == set(CATEGORIES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_place_page_in_every_language_has_lang_dir_and_the_sample_notice(demo, lang):
    client = demo.test_client()
    for url in page_urls(client):
        response = client.get(url.format(lang=lang))
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        want = "rtl" if lang in RTL else "ltr"
        assert re.search(rf'<html lang="{lang}" dir="{want}">', html), url
        # The sample notice, through gettext, on every page of the sample place (the list says it per place).
        assert shown("%(place)s — sample data, not a real service", lang) in html, url


def test_untranslated_service_texts_keep_their_own_lang_and_dir(demo):
    html = demo.test_client().get("/ar/places/example-city/services/svc-clinic").get_data(as_text=True)
    assert '<h1 lang="en" dir="ltr">Walk-in clinic (sample)</h1>' in html
    translated = demo.test_client().get("/ar/places/example-city/services/svc-legal").get_data(as_text=True)
    assert "<h1>استشارة قانونية مجانية (مثال)</h1>" in translated


def test_emergency_numbers_come_first_as_tel_links(demo):
    html = demo.test_client().get("/en/places/example-city/").get_data(as_text=True)
    assert html.index('id="emergency-title"') < html.index("<h2>Services</h2>")
    # Short numbers stay bare digits (phonenumbers' short-number data); others are E.164.
    assert 'href="tel:112"' in html and 'href="tel:110"' in html and 'href="tel:116111"' in html
    assert 'href="tel:+498000116016"' in html


def test_a_service_page_shows_every_fact(demo):
    html = demo.test_client().get("/en/places/example-city/services/svc-legal").get_data(as_text=True)
    assert 'href="tel:+493023125001"' in html and 'href="sms:+493023125004"' in html
    assert 'href="mailto:legal@example.org"' in html
    assert '<li lang="ar" dir="rtl">العربية</li>' in html  # a spoken language in its own script
    assert "Documents to bring" in html and "Any letter you received" in html
    assert "Last checked on" in html and "<strong>Free</strong>" in html
    assert "How to get there:" in html and "Step-free entrance" in html
    assert html.count('class="today"') == 1


def test_an_http_link_is_shown_as_text_not_as_a_link(content_dir, tmp_path):
    files = {
        **HSDS_30,
        "services.csv": HSDS_30["services.csv"]
        .replace("status,assured_date\n", "status,assured_date,url\n")
        .replace("2026-11-20\nsvc-2", "2026-11-20,http://old.example/\nsvc-2"),
    }
    write_place(content_dir, files=files)
    content = load_content(content_dir, today=date(2026, 12, 1))
    assert not content.errors and content.warnings
    out = tmp_path / "http.bundle"
    build_bundle(content, out)
    html = (
        create_app({"TESTING": True, "BUNDLE": str(out)})
        .test_client()
        .get("/en/places/testville/services/svc-1")
        .get_data(as_text=True)
    )
    assert '<span dir="ltr">http://old.example/</span>' in html and 'href="http://old.example/' not in html


@pytest.mark.parametrize(
    "url",
    ["/en/places/nowhere/", "/en/places/example-city/services/nope", "/en/places/example-city/in/nothing",
     "/en/places/example-city/in/food?page=99", "/xx/places/", "/en/places/%00/", "/en/places/example-city/services/%2e%2e",
     "/api/v1/en/places/nowhere", "/api/v1/xx/places/example-city", "/en/places/example-city/in/food?page=-1x"],
)  # fmt: skip
def test_strange_urls_are_404_not_500(demo, url):
    response = demo.test_client().get(url)
    assert response.status_code in (404, 200) and response.status_code != 500
    if "page=-1x" not in url:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("lang", "query", "found"),
    [("en", "legal advice", "svc-legal"), ("fr", "conseil juridique", "svc-legal"), ("ar", "قانونية", "svc-legal"),
     ("en", "ville exemple", "example-city/"), ("en", "clinic", "svc-clinic")],
)  # fmt: skip
def test_search_finds_services_and_places_in_every_language(demo, lang, query, found):
    html = demo.test_client().get(f"/{lang}/search", query_string={"q": query}).get_data(as_text=True)
    assert f"/{lang}/places/example-city/" in html and found in html


def test_the_api_describes_a_place_and_a_service(demo):
    client = demo.test_client()
    place = json.loads(client.get("/api/v1/fr/places/example-city").data)
    assert place["name"] == {"text": "Ville exemple", "lang": "fr"} and place["sample"] is True
    assert place["emergency"][0]["tel"] == "112"
    service = json.loads(client.get("/api/v1/fr/places/example-city/services/svc-legal").data)
    assert service["text"]["name"]["lang"] == "fr" and len(service["week"]) == 7
    assert json.loads(client.get("/api/v1/en/places/nowhere").data)["error"]["status"] == 404


def test_the_hsds_export_is_hsds_3_services(demo):
    body = json.loads(demo.test_client().get("/api/v1/en/places/example-city/hsds.json").data)
    legal = next(s for s in body["contents"] if s["id"] == "svc-legal")
    assert legal["name"] == "Free legal advice (sample)" and legal["status"] == "active"
    assert {"freq": "WEEKLY", "byday": "TH,FR", "opens_at": "10:00", "closes_at": "16:00"}.items() <= legal[
        "schedules"
    ][0].items()
    assert legal["phones"][0]["number"] == "030 23125 001"
    assert legal["service_at_locations"][0]["location"]["addresses"][0]["city"] == "Example City"
    assert body["total_items"] == len(body["contents"]) == 6  # the defunct one is not shown, nor exported


def test_the_place_pack_is_one_file_without_script(demo):
    response = demo.test_client().get("/en/places/example-city/pack.html")
    html = response.get_data(as_text=True)
    assert "<script" not in html and "attachment" in response.headers["Content-Disposition"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert html.count('<article class="pack"') == 6 and 'href="tel:112"' in html
    assert not re.search(r'(src|href)="/(?!/)', html)  # nothing it would fetch from the server


def test_the_poster_takes_the_kiosk_address_from_public_url_never_from_host(demo):
    html = (
        demo.test_client()
        .get("/fr/places/example-city/poster", headers={"Host": "evil.example"})
        .get_data(as_text=True)
    )
    assert "https://kiosk.example.org/" in html and "evil.example" not in html
    assert '<svg role="img"' in html and 'lang="fr"' in html


def test_the_offline_save_list_holds_the_place_and_every_service(demo):
    body = json.loads(demo.test_client().get("/en/places/example-city/offline.json").data)
    assert body["pages"][0] == "/en/places/example-city/"
    assert sum("/services/" in p for p in body["pages"]) == 6
