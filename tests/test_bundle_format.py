"""The bundle's storage: compressed HTML, no copy of the text, an index derived from the rows."""

from __future__ import annotations

import sqlite3
from datetime import date

from app.bundle import read as bundle
from app.bundle.build import build_bundle, search_rows
from app.bundle.schema import FTS_TABLES, TABLES, content_digest, logical_rows
from app.bundle.search import SCOPE_MARK, html_text, query_terms, scope_tokens, snippet
from app.content.load import load_content
from app.distribution.publish import assemble, pieces

from .helpers import article_text, write_translation


def _vocabulary(path) -> list[tuple]:
    """Return every (table, term, row count) the search index holds."""
    conn = sqlite3.connect(":memory:")
    conn.execute("ATTACH ? AS b", (f"file:{path}?mode=ro",))
    try:
        found = []
        for table in FTS_TABLES:
            conn.execute(f"CREATE VIRTUAL TABLE temp.v_{table} USING fts5vocab(b, {table}, 'row')")
            found += [(table, *row) for row in conn.execute(f"SELECT term, doc FROM temp.v_{table} ORDER BY 1")]
        return found
    finally:
        conn.close()


def test_the_bundle_keeps_one_compressed_copy_of_each_article(bundle_path, connect):
    conn = connect(bundle_path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "search_content" not in tables and not {"text", "html"} & set(TABLES["articles"])
    block, start, size = conn.execute(
        "SELECT block, start, size FROM articles WHERE lang = 'en' AND slug = 'rights-1'"
    ).fetchone()
    stored = conn.execute("SELECT data FROM article_blocks WHERE id = ?", (block,)).fetchone()[0]
    shown = bundle.article(conn, "en", "en", "rights-1")
    assert shown is not None and "<p>" in shown["html"] and len(shown["html"].encode()) == size
    # The block holds its articles' HTML compressed together, smaller than the HTML it holds.
    inside = conn.execute("SELECT sum(size) FROM articles WHERE block = ?", (block,)).fetchone()[0]
    assert isinstance(stored, bytes) and len(stored) < inside and start + size <= inside
    # The digest covers the HTML readers see, not its compressed bytes.
    assert {r["html"] for r in logical_rows(conn, "articles", "id")} >= {shown["html"]}


def test_the_text_read_from_html_is_the_text_the_builder_rendered(content_dir):
    content = load_content(content_dir)
    assert content.articles
    for article in content.articles:
        assert html_text(article.html) == article.text, article.slug


def test_a_kiosk_assembling_synced_rows_builds_the_publishers_index(bundle_path, tmp_path, connect):
    conn = connect(bundle_path)
    found = pieces(conn)
    meta = bundle.meta(conn)
    manifest = {
        "objects": [{"name": p.name, "sha256": p.hash, "row_id": p.row_id} for p in found],
        "bundle": {"bundle_version": 1, "expires": date(2099, 1, 1), "key_id": "k", "publisher": "p",
                   "built_at": meta["built_at"]},
    }  # fmt: skip
    out = tmp_path / "assembled.bundle"
    digest = assemble(manifest, {p.hash: p.raw for p in found}, out)
    assert digest == content_digest(conn) == meta["content_digest"]
    assert _vocabulary(out) == _vocabulary(bundle_path) != []


def test_search_counts_every_match_but_reads_only_the_rows_it_shows(bundle_path, connect):
    conn = connect(bundle_path)
    everything = bundle.search(conn, "en", "en", "copy", 20)
    two = bundle.search(conn, "en", "en", "copy", 2)
    assert everything["total"] == two["total"] > 2
    assert [r["slug"] for r in two["results"]] == [r["slug"] for r in everything["results"][:2]]


def test_a_search_shows_each_article_once_in_the_readers_language_or_its_source(content_dir, tmp_path, connect):
    write_translation(content_dir, "fr", "money-1", "Argent un", "Gardez une copy de ce papier.")
    build_bundle(load_content(content_dir), tmp_path / "t.bundle")
    conn = connect(tmp_path / "t.bundle")
    found = bundle.search(conn, "fr", "en", "copy", 50)
    shown = {(r["slug"], r["lang"]) for r in found["results"]}
    # money-1 in French; rights-1's French text lacks the word, so its English original is not shown either.
    assert ("money-1", "fr") in shown and ("money-1", "en") not in shown
    assert not {s for s in shown if s[0] == "rights-1"}
    assert found["total"] == len(shown) == 9
    assert all(r["fallback"] == (r["lang"] == "en") for r in found["results"])


def test_scope_tokens_are_single_words_for_any_language_code():
    tokens = scope_tokens("pt-BR", ["zh-Hans"]).split()
    assert tokens == [SCOPE_MARK + "x70742d4252", SCOPE_MARK + "y7a682d48616e73"]
    # No reader's query can name a scope token, not even as a prefix: its terms never hold the mark.
    assert all(SCOPE_MARK not in term for term in query_terms(" ".join(tokens) + SCOPE_MARK + "x7"))


def test_a_query_for_a_scope_token_finds_nothing(bundle_path, connect):
    conn = connect(bundle_path)
    for query in ("x656e", "x65", "y6672", scope_tokens("en", ["fr"])):
        assert bundle.search(conn, "en", "en", query, 20)["total"] == 0, query


def test_snippets_mark_words_whose_folded_form_starts_with_a_term():
    text = "Gardez le RÉSUMÉ. " + "mot " * 40 + "كَتَبَ (résumés) fin"
    excerpt = str(snippet(text, query_terms("resume كتب")))
    assert excerpt.startswith("Gardez le <mark>RÉSUMÉ.</mark> mot")
    later = str(snippet("mot " * 40 + "كَتَبَ (résumés) fin", query_terms("كتب resume")))
    assert "<mark>كَتَبَ</mark> <mark>(résumés)</mark> fin" in later and later.startswith("… ")


def test_search_rows_index_what_readers_see(bundle_path, connect):
    conn = connect(bundle_path)
    rows = {rowid: (title, body, scope) for rowid, title, body, scope in search_rows(conn)}
    article = conn.execute("SELECT id, title FROM articles WHERE lang = 'ar'").fetchone()
    title, _body, scope = rows[article[0]]
    assert title and scope == scope_tokens("ar", [])


def test_the_bundle_size_splits_into_content_and_index(bundle_path):
    split = bundle.storage(bundle_path)
    assert split is not None and split["index"] > 0 and split["content"] > 0
    assert split["content"] + split["index"] == split["total"] == bundle_path.stat().st_size


def test_search_ranks_title_matches_first_then_shorter_articles(content_dir, tmp_path, connect):
    # The index keeps no term frequencies (detail=none), so FTS5's bm25() is 0 for every row; the
    # ranking is bm25's for such an index: more of the terms in the title first, then shorter rows.
    en = content_dir / "articles" / "en"
    bodies = {
        ("long-permit", "Work and money"): "You need a permit to work. " + "Ask at the office before you start. " * 40,
        ("short-permit", "Work and papers"): "You need a permit to work. Ask at the office.",
        ("titled-permit", "Permit to work"): "You need it to work. " + "Ask at the office before you start. " * 40,
    }
    for (slug, title), body in bodies.items():
        front = article_text(slug, "rights", title, "rights-1").split("\n---\n")[0]
        (en / f"{slug}.md").write_text(front + "\n---\n\n" + body + "\n", encoding="utf-8")
    build_bundle(load_content(content_dir), tmp_path / "r.bundle")
    conn = connect(tmp_path / "r.bundle")
    found = [r["slug"] for r in bundle.search(conn, "en", "en", "permit", 20)["results"]]
    assert found[:3] == ["titled-permit", "short-permit", "long-permit"]
    both = [r["slug"] for r in bundle.search(conn, "en", "en", "permit work", 20)["results"]]
    assert both[0] == "titled-permit"  # both words in its title
