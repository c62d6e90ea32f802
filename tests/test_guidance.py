"""The real guidance set in content/ meets the bar the project sets for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.bundle import read as bundle
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

ROOT = Path(__file__).resolve().parent.parent
MIN_ARTICLES = 30
MIN_TERMS = 40


@pytest.fixture(scope="module")
def guidance():
    return load_content(ROOT / "content")


@pytest.fixture(scope="module")
def guidance_bundle(guidance, tmp_path_factory):
    out = tmp_path_factory.mktemp("guidance") / "guidance.bundle"
    build_bundle(guidance, out)
    return out


def test_the_guidance_has_no_errors_and_no_warnings(guidance):
    assert [str(p) for p in guidance.problems] == []


def test_every_language_has_every_article_and_glossary_term(guidance):
    counts = guidance.counts()
    english_articles, english_terms = counts["en"]
    assert english_articles >= MIN_ARTICLES and english_terms >= MIN_TERMS
    assert all(c == (english_articles, english_terms) for c in counts.values()), counts


def test_every_article_has_a_summary_sources_and_dates(guidance):
    for a in guidance.articles:
        assert a.summary.strip() and a.sources and a.updated < a.review_by, a.path
        assert all(s["url"].startswith("https://") for s in a.sources), a.path


def test_every_english_article_links_to_the_glossary(guidance):
    assert all("glossary:" in a.body for a in guidance.articles if a.lang == "en")


NO_INVENTED_NUMBERS = re.compile(r"\+\d[\d\s-]{6,}|\b\d{3}[\s-]\d{3,4}[\s-]\d{3,4}\b")


def test_no_article_gives_a_phone_number(guidance):
    for a in guidance.articles:
        assert not NO_INVENTED_NUMBERS.search(a.text), a.path


def test_every_topic_page_lists_its_articles_in_every_language(guidance, guidance_bundle):
    client = create_app({"TESTING": True, "BUNDLE": str(guidance_bundle)}).test_client()
    for lang in guidance.languages:
        for topic in guidance.topics:
            html = client.get(f"/{lang.code}/{topic.slug}/").get_data(as_text=True)
            for a in guidance.articles:
                if a.lang == lang.code and a.topic == topic.slug:
                    assert f'/{lang.code}/{topic.slug}/{a.slug}"' in html, (lang.code, a.slug)


def test_search_finds_every_article_by_a_word_from_its_body(guidance, guidance_bundle, connect):
    conn = connect(guidance_bundle)
    missed = []
    for a in guidance.articles:
        # The longest word of the body is specific enough to find its article.
        word = max(re.findall(r"\w{6,}", a.text), key=len)
        found = bundle.search(conn, a.lang, "en", word, 50)
        if a.slug not in {r["slug"] for r in found["results"]}:
            missed.append((a.lang, a.slug, word))
    assert missed == []
