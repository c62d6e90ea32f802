"""What a search reads: blocks inflated only as far as needed, and shared between searches of one bundle file only."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import unicodedata

import pytest

from app.bundle import blocks
from app.bundle import read as bundle
from app.bundle.blocks import INFLATED, BlockReader, InflatedBlocks
from app.bundle.schema import logical_rows
from app.bundle.search import _marks, fold

from .helpers import built_fixed, edit_article, write_translation

QUERIES = ["copy", "paper sign", "كتب", "يك نسخه", "money", "résumé", "a", "zzzz"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts and ends with nothing inflated kept (the store is one per process)."""
    INFLATED.clear()
    yield
    INFLATED.clear()


def _rows(conn):
    return conn.execute("SELECT lang, slug, block, start, size FROM articles ORDER BY id").fetchall()


def test_partial_reads_in_any_order_give_what_a_whole_block_read_gives(content_dir, tmp_path, connect, small_blocks):
    write_translation(content_dir, "ar", "money-1", "المال", "احتفظ بنسخة من هذه الورقة.")
    built_fixed(content_dir, tmp_path / "b.bundle")
    conn = connect(tmp_path / "b.bundle")
    whole = {(r["lang"], r["slug"]): r["html"] for r in logical_rows(conn, "articles", "id")}
    rows = _rows(conn) * 2
    assert len({row["block"] for row in rows}) > 3
    for seed in range(3):
        random.Random(seed).shuffle(rows)
        reader = BlockReader(conn, shared=True)
        for row in rows:
            assert reader.html(row["block"], row["start"], row["size"]) == whole[(row["lang"], row["slug"])]
    assert INFLATED.held > 0  # the reads above went through the shared store too


def test_search_results_are_the_same_with_and_without_kept_blocks(content_dir, tmp_path, connect, small_blocks):
    write_translation(content_dir, "ar", "money-1", "المال", "احتفظ بنسخة من هذه الورقة.")
    built_fixed(content_dir, tmp_path / "b.bundle")
    conn = connect(tmp_path / "b.bundle")
    cold, kept = {}, 0
    for query in QUERIES:
        for lang in ("en", "ar", "fa", "fr"):
            INFLATED.clear()
            cold[query, lang] = bundle.search(conn, lang, "en", query, 20)
            kept = max(kept, INFLATED.held)
    assert kept > 0
    assert any(found["results"] for found in cold.values())
    for (query, lang), found in cold.items():
        assert bundle.search(conn, lang, "en", query, 20) == found, (query, lang)  # blocks kept from before


def test_a_swapped_bundle_never_reads_the_blocks_of_the_one_before(content_dir, tmp_path, connect, monkeypatch):
    live = tmp_path / "live.bundle"
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 600)
    monkeypatch.setattr(blocks, "DICTIONARY_BYTES", 900)
    content = built_fixed(content_dir, live)
    old = connect(live)  # held open, as a server thread holds its connection across a swap
    for article in content.articles:
        bundle.article(old, article.lang, content.source_language, article.slug)
    assert INFLATED.held > 0
    # The same rows in blocks of another size: the same content digest, other bytes at every block number.
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 2000)
    built_fixed(content_dir, tmp_path / "next.bundle")
    os.replace(tmp_path / "next.bundle", live)
    new = connect(live)
    assert bundle.meta(new)["content_digest"] == bundle.meta(old)["content_digest"]
    assert _rows(new) != _rows(old)
    for article in content.articles:
        shown = bundle.article(new, article.lang, content.source_language, article.slug)
        assert shown is not None and shown["html"] == article.html, (article.lang, article.slug)
    # And other content at the same path: the new article, never the kept one.
    edit_article(content_dir, "rights-1", "copy", "copy of every page")
    changed = built_fixed(content_dir, tmp_path / "next.bundle")
    os.replace(tmp_path / "next.bundle", live)
    newest = connect(live)
    for article in changed.articles:
        shown = bundle.article(newest, article.lang, changed.source_language, article.slug)
        assert shown is not None and shown["html"] == article.html, (article.lang, article.slug)
    snippet = str(bundle.search(newest, "en", "en", "every page", 20)["results"][0]["snippet"])
    assert "copy of <mark>every</mark> <mark>page</mark>" in snippet


def test_a_connection_that_names_no_file_keeps_nothing(bundle_path):
    conn = sqlite3.connect(bundle_path)
    try:
        row = _rows(conn)[0]
        BlockReader(conn, shared=True).html(row[2], row[3], row[4])
    finally:
        conn.close()
    assert INFLATED.held == 0


def test_kept_blocks_stay_within_their_bound_least_recently_used_first():
    kept = InflatedBlocks(1000)
    kept.put("a", b"a" * 200)
    kept.put("b", b"b" * 200)
    kept.put("huge", b"h" * 251)  # more than a quarter of the bound is never kept
    assert kept.get("huge") is None
    assert kept.get("a") == b"a" * 200  # now used more recently than b
    kept.put("c", b"c" * 250)
    kept.put("d", b"d" * 250)
    assert kept.held == 900
    kept.put("e", b"e" * 200)
    assert kept.get("b") is None and kept.get("a") is not None
    assert kept.held <= 1000
    kept.put("a", b"A" * 10)  # a longer read of a block replaces what was kept of it
    assert kept.get("a") == b"A" * 10 and kept.held == 710


def test_folding_drops_exactly_the_combining_marks_of_the_basic_plane():
    marks = {chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c)) == "Mn"}
    plane = "".join(chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000)
    assert set("".join(_marks().findall(plane))) == marks
    assert fold("Ré\u0301sumé\u064e") == "resume"


def _shown(html: str) -> list[str]:
    return re.findall(r'<li lang="[^"]+" dir="[^"]+">\s*<a href="[^"]*/([^/"]+)">', html)


def test_search_pages_show_every_hit_once_in_order(make_app, bundle_path, connect):
    everything = [r["slug"] for r in bundle.search(connect(bundle_path), "en", "en", "paper", 50)["results"]]
    assert len(everything) == 10
    client = make_app(SEARCH_RESULTS=3).test_client()
    seen = []
    for page in (1, 2, 3, 4):
        html = client.get("/en/search", query_string={"q": "paper", "page": page}).get_data(as_text=True)
        assert f"Page {page} of 4" in html
        assert ('rel="prev"' in html) == (page > 1) and ('rel="next"' in html) == (page < 4)
        assert ('<ol class="results" start="' in html) == (page > 1)
        seen += _shown(html)
    assert seen == everything
    first = client.get("/en/search?q=paper").get_data(as_text=True)
    assert _shown(first) == everything[:3] and 'href="/en/search?q=paper&amp;page=2" rel="next"' in first


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", "١", "99999999999999999999", ""])
def test_a_strange_page_number_is_the_first_page(make_app, page):
    client = make_app(SEARCH_RESULTS=3).test_client()
    response = client.get("/en/search", query_string={"q": "paper", "page": page})
    assert response.status_code == 200
    assert "Page 1 of 4" in response.get_data(as_text=True)


def test_a_page_past_the_last_is_the_last(make_app):
    client = make_app(SEARCH_RESULTS=3).test_client()
    html = client.get("/en/search", query_string={"q": "paper", "page": "999"}).get_data(as_text=True)
    assert "Page 4 of 4" in html and len(_shown(html)) == 1
    found = client.get("/api/v1/en/search", query_string={"q": "paper", "page": "999"}).get_json()
    assert found["total"] == 10 and len(found["results"]) == 1
    assert client.get("/en/search", query_string={"q": "paper", "page": "2"}).status_code == 200
