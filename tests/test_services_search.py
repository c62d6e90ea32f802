"""Search finds places and services as well as articles, in every language: the page, the API and the index."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from app.bundle import service_search
from app.bundle.build import build_bundle
from app.bundle.schema import structure_problem
from app.content.load import load_content
from app.distribution import signing
from app.distribution.objects import pieces
from app.distribution.publish import publish
from app.distribution.root import load_root
from app.distribution.sync import sync
from app.web import create_app

from .helpers import HOSTILE, PLACE_YAML, shown, write_content, write_place

TODAY = date(2026, 12, 1)
# svc-1 has an Arabic name (Arabic yeh and teh marbuta); svc-2 has English texts only.
ARABIC_NAME = "عيادة قانونية مجانية"
TRANSLATION = f"id,name,description\nsvc-1,{ARABIC_NAME},نصيحة مجانية.\n"
SAMPLE_YAML = "sample: true\n" + PLACE_YAML


def with_place(content_dir, place_yaml: str = PLACE_YAML) -> None:
    folder = write_place(content_dir, place_yaml=place_yaml)
    (folder / "services" / "translations").mkdir()
    (folder / "services" / "translations" / "ar.csv").write_text(TRANSLATION, encoding="utf-8")


@pytest.fixture(scope="module")
def local_bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    content_dir = write_content(folder / "content")
    with_place(content_dir, SAMPLE_YAML)
    loaded = load_content(content_dir)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    build_bundle(loaded, folder / "local.bundle")
    return folder / "local.bundle"


@pytest.fixture
def local_client(local_bundle):
    return create_app({"TESTING": True, "BUNDLE": str(local_bundle)}).test_client()


def results_section(html: str) -> str:
    return html[html.index("<h1>") :]


@pytest.mark.parametrize("query", ["قانونية", "قانونيه", "قانونیة", "عياده مجانيه"])
def test_the_arabic_page_finds_a_service_by_its_arabic_name_however_it_is_typed(local_client, query):
    html = local_client.get("/ar/search", query_string={"q": query}).get_data(as_text=True)
    # Its Arabic name, in the page's language, so without a lang of its own.
    assert f'<a href="/ar/places/testville/services/svc-1">{ARABIC_NAME}</a>' in html
    assert "svc-2" not in html
    assert shown("Local help", "ar") in html


def test_the_arabic_api_finds_a_service_by_its_arabic_name(local_client):
    body = local_client.get("/api/v1/ar/search", query_string={"q": "قانونيه"}).get_json()
    assert body["services_total"] == 1
    (hit,) = body["services"]
    assert hit["id"] == "svc-1" and hit["name"] == {"text": ARABIC_NAME, "lang": "ar"} and hit["lang"] == "en"
    assert hit["place"] == {"id": "testville", "name": {"text": "مدينة الاختبار", "lang": "ar"}, "country": "DE",
                            "sample": True}  # fmt: skip
    # The article fields are there as before.
    assert {"query", "terms", "total", "results"} <= set(body) and body["terms"] == ["قانونیه"]  # folded: Persian yeh


def test_an_english_only_service_is_found_from_a_french_page_and_marked_english(local_client):
    html = local_client.get("/fr/search", query_string={"q": "food parcels"}).get_data(as_text=True)
    assert '<a href="/fr/places/testville/services/svc-2" lang="en" dir="ltr">Food bank</a>' in html
    # Its organisation's name is in the service's own language too; its place is named in English (no fr name).
    assert '<span lang="en" dir="ltr">Test Org</span>' in html
    assert '<a href="/fr/places/testville/" lang="en" dir="ltr">Testville</a>' in html


def test_the_arabic_name_of_a_service_is_found_from_an_english_page_in_arabic(local_client):
    html = local_client.get("/en/search", query_string={"q": "مجانية"}).get_data(as_text=True)
    # The English page shows the service's English name: the reader's language first.
    assert '<a href="/en/places/testville/services/svc-1">Legal clinic</a>' in html


@pytest.mark.parametrize(("lang", "query"), [("en", "testville"), ("fr", "مدينة الاختبار"), ("ar", "TESTVILLE")])
def test_a_place_is_found_by_its_name_in_every_language(local_client, lang, query):
    html = local_client.get(f"/{lang}/search", query_string={"q": query}).get_data(as_text=True)
    assert f'href="/{lang}/places/testville/"' in html
    body = local_client.get(f"/api/v1/{lang}/search", query_string={"q": query}).get_json()
    assert [p["id"] for p in body["places"]] == ["testville"]


def test_results_are_grouped_with_the_sample_notice_once(local_client):
    html = results_section(local_client.get("/en/search", query_string={"q": "test"}).get_data(as_text=True))
    # "test" names the place (Testville) and the services' organisation (Test Org), not one article.
    local, services = html.index("<h2>Local help</h2>"), html.index("<h3>Services</h3>")
    assert local < html.index('href="/en/places/testville/"') < services and "<h2>Guidance</h2>" not in html
    assert '<p role="status">2 services</p>' in html
    notice = shown("%(place)s — sample data, not a real service", "en")
    # Once beside the place, once above its services.
    assert html.count(notice) == 2 and html.index(notice, services) < html.index("svc-1")


def test_articles_and_services_both_show_for_one_query(local_client):
    html = results_section(local_client.get("/en/search", query_string={"q": "legal"}).get_data(as_text=True))
    # "Legal clinic" first, then "Guide legal routes 1" and its kin.
    assert html.index("<h2>Local help</h2>") < html.index("<h2>Guidance</h2>")
    assert "/en/legal-routes/legal-routes-1" in html and "/en/places/testville/services/svc-1" in html


@pytest.mark.parametrize("query", [*HOSTILE, "x\x00y", '"قانونية" OR *', "a" * 10_000 + " قانونية", "NOT legal"])
@pytest.mark.parametrize("path", ["/ar/search", "/api/v1/ar/search"])
def test_hostile_queries_give_a_normal_answer_with_local_help(local_client, path, query):
    response = local_client.get(path, query_string={"q": query})
    assert response.status_code == 200
    if path.startswith("/api/"):
        assert isinstance(response.get_json()["services"], list)
    else:
        assert "<h1>" in response.get_data(as_text=True)


def test_the_index_is_cut_to_the_limit_and_ranks_names_first(local_bundle, connect):
    conn = connect(local_bundle)
    assert service_search.search(conn, "test", "en", "en", limit=1)["total"] == 2
    assert len(service_search.search(conn, "test", "en", "en", limit=1)["services"]) == 1
    # "legal" is svc-1's name; svc-2 does not have it at all.
    assert [s["id"] for s in service_search.search(conn, "legal", "en", "en")["services"]] == ["svc-1"]
    assert service_search.search(conn, "", "en", "en") == {"terms": [], "places": [], "services": [], "total": 0}


def test_the_index_is_derived_so_no_object_carries_its_text(content_dir, sign_bundle, publisher, kiosk, tmp_path):
    with_place(content_dir)
    signed = sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)
    key, key_id = signing.load_secret(publisher.secret)
    publish(signed, tmp_path / "hub", key, key_id, load_root(publisher.root.read_bytes()), TODAY)
    built = tmp_path / "plain.bundle"
    build_bundle(load_content(content_dir), built)
    conn = sqlite3.connect(built)
    conn.row_factory = sqlite3.Row
    services = [json.loads(p.raw) for p in pieces(conn) if p.name.startswith("service/")]
    assert [s["id"] for s in services] == ["svc-1", "svc-2"] and all(isinstance(s, dict) for s in services)
    assert {"search", "search_text"}.isdisjoint(services[0])
    conn.close()
    # A kiosk that assembles the synced rows derives the same index and finds the Arabic name.
    info = sync(kiosk, str(tmp_path / "hub"), TODAY)
    assert info is not None
    live = sqlite3.connect(kiosk.live)
    live.row_factory = sqlite3.Row
    assert [s["id"] for s in service_search.search(live, "قانونيه", "ar", "en")["services"]] == ["svc-1"]
    live.close()
    for sql in ("SELECT rowid, * FROM service_index_docsize ORDER BY rowid", "SELECT * FROM service_keys ORDER BY key"):
        assert rows(kiosk.live, sql) == rows(built, sql)


def rows(path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_bundle_with_a_changed_service_index_is_not_one_waypost_made(local_bundle, tmp_path):
    copy = tmp_path / "changed.bundle"
    copy.write_bytes(local_bundle.read_bytes())
    conn = sqlite3.connect(copy)
    assert structure_problem(conn) is None
    conn.execute("DROP TABLE service_keys")
    conn.execute("CREATE TABLE service_keys (key INTEGER PRIMARY KEY, place TEXT, id TEXT, extra TEXT)")
    assert structure_problem(conn) == "table service_keys is not the one Waypost makes"
    conn.close()


def test_a_saved_place_carries_a_small_index_of_its_services(local_client):
    index = local_client.get("/ar/places/testville/offline.json").get_json()["index"]
    by_url = {entry["url"]: entry for entry in index}
    legal, food = by_url["/ar/places/testville/services/svc-1"], by_url["/ar/places/testville/services/svc-2"]
    # One language a service: the reader's when translated, else its own, marked with it.
    assert (legal["title"], legal["lang"], legal["dir"], legal["text"]) == (ARABIC_NAME, "ar", "rtl", "نصيحة مجانية.")
    assert (food["title"], food["lang"], food["dir"], food["text"]) == ("Food bank", "en", "ltr", "Food parcels.")
    # Its other names and its organisation are extra words to match; the sample notice rides along.
    assert legal["synonyms"] == "Legal clinic Test Org" and legal["kind"] == "service"
    assert legal["note"].startswith("مدينة الاختبار")
