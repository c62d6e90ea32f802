"""Search: folding across scripts, hostile queries, highlighted snippets."""

from __future__ import annotations

import pytest

from app.bundle import read as bundle
from app.bundle.build import build_bundle
from app.bundle.search import fold, query_terms
from app.content.load import load_content
from app.web import create_app


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Résumé", "resume"),
        ("كَتَبَ", "کتب"),  # Arabic short vowels dropped, kaf made one
        ("يك", "یک"),  # Arabic yeh and kaf match their Persian forms
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("أحمد إلى آخر", "احمد الی اخر"),  # hamza forms of alef
        ("۱۲۳ ٤٥", "123 45"),  # Persian and Arabic-Indic digits
        ("NIÑO Straße", "nino strasse"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b, 3)", "-", "a -b", "((", ")", "title:x", "^x", "a OR", "AND",
           "'; DROP TABLE articles; --", "\x00", "🙂", "a" * 10_000, " ", "%", "_", "{a b}", "+", "\\"]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_a_normal_page(client, query):
    response = client.get("/en/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<h1>Search</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_normal_json(client, query):
    response = client.get("/api/v1/ar/search", query_string={"q": query})
    assert response.status_code == 200
    assert set(response.get_json()) == {"query", "terms", "total", "results"}


def test_search_finds_words_regardless_of_accents_and_highlights_them(client):
    html = client.get("/fr/search?q=resume").get_data(as_text=True)
    assert "fr rights one" in html
    assert "<mark>Résumé.</mark>" in html


def test_search_finds_arabic_regardless_of_diacritics(bundle_path, connect):
    conn = connect(bundle_path)
    found = bundle.search(conn, "ar", "en", "كتب", 10)
    assert [r["slug"] for r in found["results"]] == ["rights-1"]
    assert "<mark>كَتَبَ</mark>" in str(found["results"][0]["snippet"])


def test_search_finds_persian_typed_with_arabic_letters(bundle_path, connect):
    conn = connect(bundle_path)
    assert [r["slug"] for r in bundle.search(conn, "fa", "en", "يك نسخه", 10)["results"]] == ["rights-1"]


def test_search_in_a_language_also_finds_untranslated_english_articles(bundle_path, connect):
    conn = connect(bundle_path)
    found = bundle.search(conn, "ar", "en", "sign paper", 50)
    slugs = {r["slug"] for r in found["results"]}
    assert "money-1" in slugs and "rights-1" not in slugs  # rights-1 has an Arabic version
    assert all(r["fallback"] for r in found["results"])


def test_empty_and_oversized_queries_are_trimmed():
    assert query_terms("") == []
    assert len(query_terms(" ".join(["word"] * 50))) == 8


def test_search_escapes_html_in_the_query_and_the_snippet(client):
    html = client.get("/en/search", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert" not in html


def with_synonyms(content_dir):
    """Give the test glossary's one term a synonym in Latin and in Arabic script."""
    path = content_dir / "glossary" / "en.yaml"
    path.write_text(path.read_text() + "    synonyms: [hawala, حوالة]\n", encoding="utf-8")


@pytest.mark.parametrize("query", ["hawala", "حواله", "حوالة"])
def test_a_glossary_synonym_finds_the_articles_that_link_the_term(content_dir, tmp_path, connect, query):
    with_synonyms(content_dir)
    build_bundle(load_content(content_dir), tmp_path / "s.bundle")
    found = bundle.search(connect(tmp_path / "s.bundle"), "ar", "en", query, 20)
    # Every test article links glossary:passport; the Arabic one replaces its English original.
    assert found["total"] == 10 and {r["lang"] for r in found["results"]} == {"ar", "en"}


def test_the_offline_index_carries_the_same_synonyms(content_dir, tmp_path):
    with_synonyms(content_dir)
    build_bundle(load_content(content_dir), tmp_path / "s.bundle")
    client = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "s.bundle")}).test_client()
    index = client.get("/fa/rights/offline.json").get_json()["index"]
    assert [entry["synonyms"] for entry in index] == ["hawala حوالة"] * 2
