"""Pseudo-locales: every page type, in both, shows no interface text that skipped gettext.

`en-xa` (accented, longer) and `ar-xb` (right-to-left) are built from
messages.pot when PSEUDO_LOCALES is on. Every pseudo string sits between ⟦ and
⟧, so any other letters in the interface language are text that never went
through the catalogs. Content blocks carry their own `lang` and are skipped.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import get_currency_symbol

from app import kiosk_state
from app.bundle import read as bundle
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.i18n import pseudo
from app.i18n.catalogs import read_catalog
from app.i18n.checks import placeholders
from app.web import create_app

from .helpers import must, write_content, write_place
from .live import LAUNCH, require_chromium, serving

ROOT = Path(__file__).resolve().parent.parent
CODES = [p.code for p in pseudo.LANGUAGES]


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """A private instance folder, so compiled catalogs stay inside the test."""
    path = tmp_path / "instance"
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def pseudo_bundle(tmp_path) -> Path:
    """The small content set, with one article past its review date so that notice shows too."""
    content = write_content(tmp_path / "content")
    write_place(content)
    path = content / "articles/en/money-2.md"
    text = path.read_text().replace("updated: 2026-11-01", "updated: 2020-01-01")
    path.write_text(text.replace("review_by: 2099-11-01", "review_by: 2021-01-01"))
    shutil.copytree(ROOT / "content" / "remittances", content / "remittances")  # the sample prices
    out = tmp_path / "pseudo.bundle"
    build_bundle(load_content(content), out)
    return out


def pseudo_app(bundle_path: Path, **overrides):
    return create_app({"TESTING": True, "BUNDLE": str(bundle_path), "PSEUDO_LOCALES": True, **overrides})


class Texts(HTMLParser):
    """Collect each text node and user-visible attribute with the language it is marked in."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.found: list[tuple[str | None, str, str]] = []  # (lang, text, where)
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang", self.stack[-1][1] if self.stack else None)
        self.found += [(lang, attrs[a], f"<{tag} {a}>") for a in self.ATTRIBUTES if attrs.get(a)]
        if tag not in self.VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if data.strip() and self.stack and self.stack[-1][0] not in ("script", "style"):
            self.found.append((self.stack[-1][1], data.strip(), f"<{self.stack[-1][0]}>"))


def untranslated(html: str, lang: str, data: set[str]) -> list[str]:
    """Return the interface texts of a page that are not pseudo-translated.

    Allowed outside ⟦…⟧: content strings from the bundle (topic names, titles,
    source names, which may show in a block of the page's language, such as
    <title>), the brand, numbers and punctuation.
    """
    problems = []
    for text_lang, text, where in Texts(html).found:
        if text_lang != lang:
            continue  # content, or a language's own name in the switcher
        rest = text
        while True:  # ⟦…⟧ may nest: a pseudo string holding a pseudo language name
            stripped = re.sub(r"⟦[^⟦⟧]*⟧", " ", rest)
            if stripped == rest:
                break
            rest = stripped
        for known in sorted(data, key=len, reverse=True):
            rest = rest.replace(known, " ")
        if re.search(r"[^\W\d_]", rest.replace("Waypost", " ")):
            problems.append(f"{where} {text!r}")
    return problems


def bundle_strings(path: Path) -> set[str]:
    conn = bundle.connect(path)
    try:
        rows = conn.execute(
            "SELECT name FROM topic_names UNION SELECT description FROM topic_names "
            "UNION SELECT title FROM articles UNION SELECT summary FROM articles "
            "UNION SELECT json_extract(s.value, '$.title') FROM articles, json_each(articles.sources) AS s "
            "UNION SELECT term FROM glossary UNION SELECT definition FROM glossary"
        ).fetchall()
        found = {row[0] for row in rows if row[0]}
        # Remittance data: the source's own words, and what CLDR names (countries, currency codes)
        # where a pseudo-locale has no names of its own.
        found |= {row[0] for row in conn.execute("SELECT value FROM remit_source") if row[0]}
        for corridor in conn.execute("SELECT * FROM remit_corridors"):
            found |= {corridor["source_name"], corridor["destination_name"], corridor["send_currency"],
                      corridor["receive_currency"]}  # fmt: skip
            for language in pseudo.LANGUAGES:
                for code in (corridor["send_currency"], corridor["receive_currency"]):
                    found.add(get_currency_symbol(code, language.locale))
        # A service's week of opening hours names each day as CLDR writes a full date: data, not interface text.
        today = kiosk_state.now().date()
        for language in pseudo.LANGUAGES:
            for offset in range(-2, 10):
                found.add(format_date(today + timedelta(days=offset), format="full", locale=language.locale))
        # Local help: every text a place or service carries is content, not interface.
        for (data,) in conn.execute("SELECT data FROM services UNION ALL SELECT names FROM places"
                                    " UNION ALL SELECT names FROM emergency_numbers"):  # fmt: skip
            found |= {text for text in _strings(json.loads(data)) if text}
        return found
    finally:
        conn.close()


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def page_urls(app, bundle_path: Path, lang: str) -> list[str]:
    """Return a URL for every page type of the app in lang, plus the states worth seeing."""
    conn = bundle.connect(bundle_path)
    try:
        topic, slug = conn.execute("SELECT topic, slug FROM articles WHERE lang = 'en' ORDER BY slug").fetchone()
    finally:
        conn.close()
    fill = {
        "lang": lang,
        "topic": topic,
        "slug": slug,
        "key": "GBR-AFG",
        "place_id": "testville",
        "category": "other",
        "service_id": "svc-1",
    }
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "lang" not in rule.arguments or "GET" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        unknown = rule.arguments - fill.keys()
        assert not unknown, f"{rule.rule}: teach page_urls how to fill {sorted(unknown)}"
        urls.append(adapter.build(rule.endpoint, {k: fill[k] for k in rule.arguments}))
    return urls + [
        f"/{lang}/search?q=copy",  # results
        f"/{lang}/search?q=zzzzqqq",  # nothing found
        f"/{lang}/money/money-2",  # past its review date
        f"/{lang}/no-such-topic/",  # the 404 page
    ]


@pytest.mark.parametrize("lang", CODES)
def test_every_page_type_in_a_pseudo_locale_has_no_untranslated_interface_text(instance, pseudo_bundle, lang):
    app = pseudo_app(pseudo_bundle)
    client = app.test_client()
    data = bundle_strings(pseudo_bundle)
    direction = pseudo.BY_CODE[lang].dir
    problems, seen = [], 0
    for url in page_urls(app, pseudo_bundle, lang):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == (404 if "no-such" in url else 200), url
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}" dir="{direction}">' in html, url
        assert "⟦" in html, f"{url}: no pseudo-translated text at all"
        problems += [f"{url}: {p}" for p in untranslated(html, lang, data)]
        seen += 1
    assert seen >= 9, "fewer page types than the site has"
    assert problems == [], "interface text that skipped gettext or messages.pot:\n" + "\n".join(problems)


def test_the_detector_finds_hard_coded_text_and_unlabelled_attributes():
    html = (
        '<html lang="en-xa"><head><title>⟦Ĝļöššåŕý⟧ · Waypost</title></head><body>'
        "<p>⟦Šåƒé ⟦ar-xb⟧ ţéẋţ⟧ 12 · Waypost</p><p>Hard-coded words</p>"
        '<div lang="en"><p>Content in English</p><p lang="en-xa">Not marked</p></div>'
        '<button aria-label="Close">×</button><h1>Money</h1><br><input placeholder="⟦Ţýþé⟧">'
        "<script>var english = 'fine';</script></body></html>"
    )
    assert untranslated(html, "en-xa", {"Money"}) == [
        "<p> 'Hard-coded words'",
        "<p> 'Not marked'",
        "<button aria-label> 'Close'",
    ]


def test_a_string_missing_from_messages_pot_is_caught(instance, pseudo_bundle, tmp_path):
    translations = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", translations, ignore=shutil.ignore_patterns("*.mo"))
    pot = translations / "messages.pot"
    text = pot.read_text(encoding="utf-8")
    pot.write_text(text.replace('msgid "Skip to main content"\nmsgstr ""\n', ""), encoding="utf-8")
    app = pseudo_app(pseudo_bundle, TRANSLATIONS_DIR=str(translations))
    html = app.test_client().get("/en-xa/").get_data(as_text=True)
    assert untranslated(html, "en-xa", bundle_strings(pseudo_bundle)) == ["<a> 'Skip to main content'"]


def test_pseudo_locales_are_off_unless_asked_for(instance, pseudo_bundle):
    pseudo_app(pseudo_bundle)  # builds them once
    assert (instance / "translations/en_001/LC_MESSAGES/messages.mo").exists()
    client = create_app({"TESTING": True, "BUNDLE": str(pseudo_bundle)}).test_client()
    assert client.get("/en-xa/").status_code == 404
    assert client.get("/ar-xb/money/money-1").status_code == 404
    assert "en-xa" not in client.get("/en/").get_data(as_text=True)
    assert not (instance / "translations/en_001/LC_MESSAGES/messages.mo").exists()
    assert not list((ROOT / "translations").glob("*_001"))  # never written beside the real catalogs


def test_pseudo_strings_are_30_to_40_percent_longer_and_keep_every_placeholder():
    template = read_catalog(ROOT / "translations/messages.pot")
    for language in pseudo.LANGUAGES:
        catalog = pseudo.catalog(template, language)
        assert catalog.num_plurals == (6 if language.code == "ar-xb" else 2)
        for message in template:
            if not message.id:
                continue
            ids = tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)
            found = must(catalog.get(message.id)).string
            strings = tuple(found) if isinstance(found, tuple | list) else (must(found),)
            for string in strings:
                assert string.startswith("⟦") and string.endswith("⟧"), string
                # Each form comes from the singular or the plural source text, placeholders intact.
                assert any(placeholders(string) == placeholders(source) for source in ids), (string, ids)
            if language.code == "en-xa" and len(ids[0]) >= 20:
                assert 1.3 <= len(strings[0]) / len(ids[0]) <= 1.4, (ids[0], strings[0])


def test_pseudo_transforms_leave_placeholders_and_markup_alone():
    text = "Updated %(date)s for {name} <b>now</b> &amp; 100%%"
    assert pseudo.accented(text).startswith("⟦Ûþđåţéđ %(date)s ƒöŕ {name} <b>ñöŵ</b> &amp; 100%%")
    assert pseudo.mirrored("Read %(source)s") == "⟦\u202eRead\u202c %(source)s⟧"


@pytest.fixture
def live_pseudo(instance, pseudo_bundle):
    require_chromium()
    with serving(pseudo_app(pseudo_bundle)) as url:
        yield url


@pytest.mark.browser
def test_longer_text_fits_a_360px_phone_and_the_rtl_pseudo_locale_is_mirrored(live_pseudo):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        page = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640}).new_page()
        measure = """() => ({direction: getComputedStyle(document.documentElement).direction,
                     brand: document.querySelector('.brand').getBoundingClientRect().left,
                     width: document.documentElement.scrollWidth})"""
        seen = {}
        for path in (
            "/en-xa/",
            "/en-xa/money/",
            "/en-xa/money/money-2",
            "/en-xa/search?q=copy",
            "/ar-xb/money/money-1",
        ):
            page.goto(live_pseudo + path)
            seen[path] = page.evaluate(measure)
        browser.close()
    for path, layout in seen.items():
        assert layout["width"] <= 360, f"{path} is wider than the phone: {layout}"
    assert seen["/en-xa/"]["direction"] == "ltr" and seen["/en-xa/"]["brand"] < 180
    assert seen["/ar-xb/money/money-1"]["direction"] == "rtl" and seen["/ar-xb/money/money-1"]["brand"] > 180
