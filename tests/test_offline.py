"""Offline on phones, as the server sees it: the worker script, manifest, save lists and packs."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest
from flask_babel import force_locale, gettext, ngettext

from app import __version__
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web.export import export_site, file_for

from .helpers import LANGUAGES, must

RTL = {"ar", "fa"}


def digest_of(client) -> str:
    return client.get("/api/v1/status").get_json()["content_digest"]


def test_the_worker_is_served_with_its_version_and_shell_filled_in(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__WAYPOST_" not in source
    assert f"const VERSION = '{__version__}-{digest_of(client)[:12]}';" in source
    shell = json.loads(must(re.search(r"const SHELL_ASSETS = (\[.*?\]);", source)).group(1))
    assert {url.rsplit("/", 1)[1] for url in shell} == {
        "waypost.css", "register.js", "offline.js", "icon-192.png", "icon-512.png", "icon-maskable-512.png"}  # fmt: skip
    for url in shell:
        assert client.get(url).status_code == 200


def test_without_the_worker_source_the_site_still_works(make_app, tmp_path, caplog):
    client = make_app(SERVICE_WORKER=str(tmp_path / "missing" / "sw.js")).test_client()
    assert client.get("/sw.js").status_code == 404
    assert "no service worker at" in caplog.text
    assert client.get("/en/money/").status_code == 200


def test_a_new_bundle_gives_the_worker_a_new_version(client, content_dir, bundle_path, tmp_path):
    before = client.get("/sw.js").get_data(as_text=True)
    article = content_dir / "articles" / "en" / "money-1.md"
    article.write_text(article.read_text().replace("title: Guide money 1", "title: Guide money one"))
    build_bundle(load_content(content_dir), tmp_path / "next.bundle")
    os.replace(tmp_path / "next.bundle", bundle_path)
    after = client.get("/sw.js").get_data(as_text=True)
    version = re.compile(r"const VERSION = '([^']+)'")
    assert (
        must(version.search(before)).group(1)
        != must(version.search(after)).group(1)
        == f"{__version__}-{digest_of(client)[:12]}"
    )


def test_the_registration_script_is_under_3_kb_compressed(client):
    html = client.get("/en/").get_data(as_text=True)
    url = must(re.search(r'<script src="(/static/[^"]+/register\.js)" defer></script>', html)).group(1)
    body = client.get(url).get_data()
    assert len(gzip.compress(body)) < 3000


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_links_the_manifest_of_its_language(make_app, lang):
    app = make_app()
    client = app.test_client()
    html = client.get(f"/{lang}/glossary").get_data(as_text=True)
    assert f'<link rel="manifest" href="/{lang}/manifest.webmanifest">' in html
    assert '<meta name="theme-color" content="#0b5d3b">' in html
    response = client.get(f"/{lang}/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["lang"] == lang and manifest["dir"] == ("rtl" if lang in RTL else "ltr")
    assert manifest["start_url"] == f"/{lang}/" and manifest["scope"] == "/"
    with app.test_request_context(), force_locale(lang):
        # The description is the home page's lead, already translated everywhere.
        assert manifest["description"] == gettext(
            "Short, practical answers about your rights, your money, your safety and legal ways to move."
        )
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).mimetype == "image/png"


@pytest.mark.parametrize(
    "path",
    ["/xx/manifest.webmanifest", "/xx/offline", "/en/nowhere/offline.json", "/en/nowhere/pack.html",
     "/xx/glossary/pack.html", "/en/money/pack.htm", "/en/../pack.html", "/en/%00/offline.json",
     "/en/money/offline.json/x"],
)  # fmt: skip
def test_strange_addresses_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_the_save_list_names_every_page_of_the_topic_and_indexes_their_text(client):
    saved = client.get("/ar/rights/offline.json").get_json()
    assert (saved["lang"], saved["dir"], saved["topic"], saved["url"]) == ("ar", "rtl", "rights", "/ar/rights/")
    assert saved["name"] == "Rights (ar)" and saved["version"].endswith(digest_of(client)[:12])
    assert saved["pages"] == ["/ar/rights/", "/ar/rights/rights-2", "/ar/rights/rights-1", "/ar/glossary"]
    for page in saved["pages"]:
        assert client.get(page).status_code == 200
    index = {entry["url"]: entry for entry in saved["index"]}
    assert set(index) == set(saved["pages"][1:-1])  # the articles; the glossary page is saved, not indexed
    assert (index["/ar/rights/rights-1"]["lang"], index["/ar/rights/rights-1"]["dir"]) == ("ar", "rtl")
    assert (index["/ar/rights/rights-2"]["lang"], index["/ar/rights/rights-2"]["dir"]) == ("en", "ltr")  # fallback
    assert "كَتَبَ" in index["/ar/rights/rights-1"]["text"]
    assert "<" not in "".join(entry["text"] for entry in index.values())


def test_the_offline_search_page_has_a_count_for_every_possible_number_of_results(make_app):
    app = make_app()
    html = app.test_client().get("/fa/offline-search").get_data(as_text=True)
    assert html.count("<!--wp-results-->") == 1
    counts = re.findall(r'<template data-part="found-(\d+)"><p role="status">([^<]+)</p></template>', html)
    assert [int(n) for n, _ in counts] == list(range(1, 11))  # the test content has ten articles
    with app.test_request_context(), force_locale("fa"):
        assert counts[2][1] == ngettext("%(num)d article found", "%(num)d articles found", 3)
    assert 'href="{' not in html  # a static export follows every link, so none may be a placeholder


def test_the_topic_page_offers_the_pack_and_saving_with_their_sizes(client):
    html = client.get("/en/rights/").get_data(as_text=True)
    pack = client.get("/en/rights/pack.html").get_data()
    offered = re.search(
        r'<a href="/en/rights/pack.html" download>Download this topic as one file \((\d+) kB\)</a>', html
    )
    assert offered and int(offered.group(1)) == max(1, round(len(pack) / 1000))
    box = re.search(
        r'<div class="save" id="wp-save" hidden data-list="/en/rights/offline.json" data-storage="(\d+)">', html
    )
    pages = [client.get(url).get_data() for url in client.get("/en/rights/offline.json").get_json()["pages"]]
    # Stored bytes are at least the pages' bodies; the topic page was measured without its own offline box.
    assert box and int(box.group(1)) >= sum(len(p) for p in pages[1:])
    assert re.search(r"Save for offline \(\d+ kB\)", html)


def test_measuring_what_saving_costs_writes_nothing_to_the_access_log(make_app, caplog):
    client = make_app(ACCESS_LOG=True).test_client()
    with caplog.at_level("INFO", logger="waypost.access"):
        client.get("/en/money/")
    logged = [r.getMessage() for r in caplog.records if r.name == "waypost.access"]
    assert len(logged) == 1 and logged[0].startswith("GET /en/money/ 200 ")


def test_a_topic_pack_is_one_self_contained_file(client):
    response = client.get("/ar/rights/pack.html", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="waypost-ar-rights.html"'
    assert response.mimetype == "text/html" and response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.get_data()).decode("utf-8")
    assert html.startswith('<!doctype html>\n<html lang="ar" dir="rtl">')
    # Nothing that would fetch anything: no script, no stylesheet link, no image, no root-relative link.
    assert not re.search(r"<script|<link|<img|<iframe|src=|href=\"/", html)
    style = must(re.search(r"<style>(.*?)</style>", html, re.S)).group(1)
    style_hash = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{style_hash}'" in response.headers["Content-Security-Policy"]
    assert f"style-src &#39;sha256-{style_hash}&#39;" in html  # the same policy, for the file on its own
    ids = set(re.findall(r' id="([^"]+)"', html))
    assert {"rights-1", "rights-2"} <= ids
    assert '<article class="pack" id="rights-1" lang="ar" dir="rtl">' in html
    assert '<article class="pack" id="rights-2" lang="en" dir="ltr">' in html
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in ids, target
    assert 'href="#term-passport"' in html and '<dt id="term-passport"' in html
    # Without PUBLIC_URL a link to another topic's article keeps its words and leads nowhere:
    # the request's Host is no address to hand on from phone to phone.
    assert "/money/money-1" not in html and "localhost" not in html
    assert digest_of(client)[:12] in html


def test_without_public_url_a_pack_tells_the_reader_where_to_look(client):
    html = client.get("/en/rights/pack.html").get_data(as_text=True)
    assert "/money/money-1" not in html and "<a>another article</a>" in html
    assert "open Waypost again where you got this file." in html


def test_a_pack_links_to_public_url_for_what_it_does_not_hold(make_app):
    client = make_app(PUBLIC_URL="https://guide.example.org").test_client()
    html = client.get("/en/rights/pack.html", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert 'href="https://guide.example.org/en/money/money-1"' in html
    assert "visit https://guide.example.org/ when you are connected" in html
    assert "evil.example" not in html


def test_body_headings_sit_below_the_article_title_in_a_pack(client):
    html = client.get("/en/money/pack.html").get_data(as_text=True)
    assert "<h3>What to do</h3>" in html and "<h2>What to do</h2>" not in html


def test_the_glossary_pack_holds_every_term(client):
    response = client.get("/fa/glossary/pack.html")
    assert response.headers["Content-Disposition"] == 'attachment; filename="waypost-fa-glossary.html"'
    html = response.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    assert '<dt id="term-passport" lang="en" dir="ltr">Passport</dt>' in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_offline_and_saved_pages_exist_in_every_language(client, lang):
    for path in (f"/{lang}/offline", f"/{lang}/saved"):
        html = client.get(path).get_data(as_text=True)
        assert f'<html lang="{lang}" dir="{"rtl" if lang in RTL else "ltr"}">' in html
        assert "data-saved-list" in html
    saved = client.get(f"/{lang}/saved").get_data(as_text=True)
    assert f'href="/{lang}/glossary/pack.html" download' in saved
    assert saved.count("/pack.html") == 6  # five topics and the glossary


def test_a_static_export_carries_what_saving_a_topic_fetches(make_app, tmp_path):
    export_site(make_app(), tmp_path / "site")
    saved = json.loads((tmp_path / "site" / "en/money/offline.json").read_text(encoding="utf-8"))
    for page in saved["pages"]:
        assert (tmp_path / "site" / file_for(page)).is_file(), page
    assert (tmp_path / "site" / "sw.js").is_file() and (tmp_path / "site" / "en/offline-search.html").is_file()


def test_the_language_switcher_keeps_the_reader_on_the_saved_and_offline_pages(client):
    for path in ("/ar/saved", "/ar/offline"):
        html = client.get(path).get_data(as_text=True)
        assert f'href="{path.replace("/ar/", "/fr/")}" lang="fr"' in html


def test_the_glossary_page_offers_its_pack_with_its_size(client):
    html = client.get("/fr/glossary").get_data(as_text=True)
    pack = client.get("/fr/glossary/pack.html")
    assert pack.status_code == 200
    assert 'href="/fr/glossary/pack.html" download>Télécharger le lexique en un seul fichier (' in html


def test_a_pack_marks_source_titles_with_their_own_language(client):
    html = client.get("/ar/rights/pack.html").get_data(as_text=True)
    assert 'lang="en" hreflang="en" dir="auto">UNHCR</a>' in html
    assert 'id="term-passport"' in html


WORKER_LANGUAGE = """
const vm = require('vm');
const source = require('fs').readFileSync(0, 'utf8');
const context = vm.createContext({ URL, importScripts() {}, self: { location: new URL('http://kiosk.test/sw.js'), addEventListener() {} } });
vm.runInContext(source, context);
const paths = JSON.parse(process.argv[1]);
console.log(JSON.stringify(paths.map((p) => vm.runInContext(`languageOf(${JSON.stringify(p)}) || null`, context))));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (scripts/test installs it with npm)")
def test_the_worker_takes_only_the_guidance_languages_for_languages(client):
    # /api/ and /static/ look like a language code to a pattern; the worker asks its list instead.
    paths = ["/ar/money/", "/en/", "/api/v1/status", "/static/waypost.css", "/xx/", "/fr"]
    worker = client.get("/sw.js").get_data(as_text=True)
    found = subprocess.run(
        ["node", "-e", WORKER_LANGUAGE, json.dumps(paths)], input=worker, capture_output=True, text=True, check=True
    )
    assert json.loads(found.stdout) == ["ar", "en", None, None, None, None]
