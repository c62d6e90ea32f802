"""Every page in every language: status, lang and dir, translated strings, fallback."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

from .helpers import LANGUAGES, edit_article

RTL = {"ar", "fa"}
PAGES = ["/{lang}/", "/{lang}/money/", "/{lang}/rights/rights-1", "/{lang}/money/money-1",
         "/{lang}/search?q=copy", "/{lang}/glossary"]  # fmt: skip


def html_attrs(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    assert match, html[:200]
    return match.group(1), match.group(2)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_every_language(make_app, lang, page):
    app = make_app()
    response = app.test_client().get(page.format(lang=lang))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html_attrs(html) == (lang, "rtl" if lang in RTL else "ltr")
    with app.test_request_context(), force_locale(lang):
        expected = gettext("Skip to main content")
    assert expected in html
    if lang != "en":
        assert expected != "Skip to main content", f"{lang} catalog lacks a translation"


def test_the_home_page_lists_every_topic_in_the_readers_language(client):
    html = client.get("/fa/").get_data(as_text=True)
    for topic in ("Legal Routes (fa)", "Rights (fa)", "Money (fa)", "Digital Safety (fa)", "Emergencies (fa)"):
        assert topic in html


def test_the_language_switcher_names_each_language_in_its_own_script_and_keeps_the_page(client):
    html = client.get("/en/money/money-1").get_data(as_text=True)
    assert '<a href="/ar/money/money-1" lang="ar" dir="rtl" hreflang="ar">العربية</a>' in html
    assert '<a href="/uk/money/money-1" lang="uk" dir="ltr" hreflang="uk">Українська</a>' in html


def test_an_untranslated_article_falls_back_to_english_with_a_notice(make_app):
    app = make_app()
    html = app.test_client().get("/ar/money/money-1").get_data(as_text=True)
    assert html_attrs(html) == ("ar", "rtl")
    assert '<article lang="en" dir="ltr">' in html
    assert "Guide money 1" in html
    with app.test_request_context(), force_locale("ar"):
        notice = gettext(
            "This article is not translated into %(language)s yet. Here it is in %(source)s.",
            language="العربية",
            source="English",
        )
    assert notice in html


def test_a_translated_article_is_in_its_language_with_a_machine_translation_notice(make_app):
    app = make_app()
    html = app.test_client().get("/fa/rights/rights-1").get_data(as_text=True)
    assert '<article lang="fa" dir="rtl">' in html
    assert "fa rights one" in html
    with app.test_request_context(), force_locale("fa"):
        notice = gettext("This is a machine translation that no person has checked yet. It may contain mistakes.")
    assert notice in html
    assert 'href="/en/rights/rights-1"' in html


def test_article_links_keep_the_reader_in_their_language(client):
    html = client.get("/fr/rights/rights-1").get_data(as_text=True)
    assert 'href="../glossary#passport"' in html  # resolves to /fr/glossary#passport


def test_article_dates_are_localised(client):
    html = client.get("/fr/rights/rights-1").get_data(as_text=True)
    assert "2 novembre 2026" in html


def test_an_article_under_the_wrong_topic_redirects_to_its_topic(client):
    response = client.get("/en/rights/money-1")
    assert response.status_code == 301
    assert response.headers["Location"] == "/en/money/money-1"


@pytest.mark.parametrize(
    ("accept", "target"),
    [("ar,en;q=0.5", "/ar/"), ("fa-IR", "/fa/"), ("de-DE,de", "/en/"), ("", "/en/"), ("uk;q=0.9,fr", "/fr/")],
)
def test_root_sends_the_visitor_to_the_best_language(client, accept, target):
    response = client.get("/", headers={"Accept-Language": accept})
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("url", "lang"),
    [
        ("/xx/", "ar"),
        ("/en/no-topic/", "en"),
        ("/en/money/no-article", "en"),
        ("/ar/money/no-article", "ar"),
        ("/%ff/", "ar"),
        ("/en/money/%00", "en"),
        ("/" + "a" * 5000, "ar"),
        ("/en/glossary/", "en"),
        ("/en/../../etc/passwd", "ar"),
        ("/static/abc/none.css", "ar"),
        ("/fa/nothing", "fa"),
    ],
)
def test_strange_urls_get_a_localised_404_never_a_500(make_app, url, lang):
    # The URL's language when it names one, else the browser's (Arabic here).
    app = make_app()
    response = app.test_client().get(url, headers={"Accept-Language": "ar"}, follow_redirects=True)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert html_attrs(html) == (lang, "rtl" if lang in RTL else "ltr")
    with app.test_request_context(), force_locale(lang):
        assert f"<h1>{gettext('Page not found')}</h1>" in html


def test_the_404_page_speaks_the_language_of_the_url(make_app):
    app = make_app()
    html = app.test_client().get("/uk/money/nothing-here").get_data(as_text=True)
    with app.test_request_context(), force_locale("uk"):
        assert gettext("Page not found") in html
    assert html_attrs(html) == ("uk", "ltr")


def test_a_missing_bundle_gives_a_clear_503_page(make_app, tmp_path):
    response = make_app(BUNDLE=str(tmp_path / "none.bundle")).test_client().get("/en/")
    assert response.status_code == 503
    assert "No guidance loaded yet" in response.get_data(as_text=True)


def test_posting_to_a_page_is_refused_without_a_traceback(client):
    assert client.post("/en/").status_code == 405


def test_no_page_sets_a_cookie_or_names_a_third_party(client):
    for url in ("/", "/en/", "/ar/money/", "/en/search?q=x", "/api/v1/status", "/nope"):
        response = client.get(url, follow_redirects=True)
        assert "Set-Cookie" not in response.headers
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url


def test_the_api_answers_in_json_with_one_error_shape(client):
    status = client.get("/api/v1/status").get_json()
    assert status["languages"] == list(LANGUAGES) and len(status["content_digest"]) == 64
    article = client.get("/api/v1/ar/articles/money-1").get_json()
    assert article["fallback"] is True and article["lang"] == "en"
    assert client.get("/api/v1/en/articles/nope").get_json() == {
        "error": {"status": 404, "message": "no article 'nope'"}
    }
    assert client.get("/api/v1/zz/search?q=a").status_code == 404
    assert client.get("/api/v1/nothing").get_json()["error"]["status"] == 404


def test_source_titles_carry_their_own_language_on_a_translated_page(client):
    html = client.get("/ar/rights/rights-1").get_data(as_text=True)
    assert '<footer lang="ar" dir="rtl">' in html
    assert 'lang="en" hreflang="en" dir="auto">UNHCR</a>' in html


def test_an_article_says_which_sources_are_confirmed_and_that_no_expert_reviewed_it(client):
    html = client.get("/en/money/money-1").get_data(as_text=True)
    assert "(not yet checked)" in html
    assert "Not yet reviewed by an expert" in html


def test_a_reviewed_article_with_a_confirmed_source_says_so(content_dir, tmp_path):
    path = content_dir / "articles/en/money-1.md"
    text = path.read_text().replace("checked: unverified", "checked: 2026-11-05")
    text = text.replace(
        "sources:\n", "review:\n  status: reviewed\n  by: NGO legal adviser\n  date: 2026-11-10\nsources:\n"
    )
    path.write_text(text)
    build_bundle(load_content(content_dir), tmp_path / "r.bundle")
    client = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "r.bundle")}).test_client()
    html = client.get("/en/money/money-1").get_data(as_text=True)
    assert "(checked on November 5, 2026)" in html
    assert "Reviewed by NGO legal adviser on November 10, 2026" in html


def test_an_article_page_describes_itself_with_its_summary(client):
    html = client.get("/en/money/money-1").get_data(as_text=True)
    assert '<meta name="description" content="What to know about guide money 1.">' in html


def test_the_404_page_has_a_search_box_and_language_links_that_work(client):
    html = client.get("/fa/money/nothing-here").get_data(as_text=True)
    assert 'action="/fa/search"' in html
    assert '<a href="/ar/" lang="ar" dir="rtl" hreflang="ar">' in html
    assert "/ar/money/nothing-here" not in html


def test_leave_quickly_without_javascript_redirects_to_the_neutral_site(make_app):
    response = make_app(LEAVE_URL="https://weather.example/").test_client().get("/leave")
    assert (response.status_code, response.headers["Location"]) == (302, "https://weather.example/")
    assert response.headers["Cache-Control"] == "no-store"


def test_sensitive_articles_and_topics_are_never_stored(content_dir, tmp_path):
    topics = content_dir / "topics.yaml"
    topics.write_text(topics.read_text().replace("- slug: emergencies\n", "- slug: emergencies\n  sensitive: true\n"))
    edit_article(content_dir, "rights-2", "topic: rights\n", "topic: rights\nsensitive: true\n")
    build_bundle(load_content(content_dir), tmp_path / "s.bundle")
    client = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "s.bundle")}).test_client()
    for url in (
        "/en/emergencies/",
        "/ar/emergencies/emergencies-1",
        "/fa/rights/rights-2",
        "/en/emergencies/pack.html",
    ):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    for url in ("/en/rights/", "/en/rights/rights-1", "/en/"):
        assert client.get(url).headers["Cache-Control"] == "no-cache", url
