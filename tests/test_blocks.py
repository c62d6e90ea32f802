"""Articles' HTML in compressed blocks: read back exactly, checked, deterministic, synced per article."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.bundle import blocks
from app.bundle import read as bundle
from app.bundle.blocks import BlockReader, compress_block, pack_articles, zstd
from app.bundle.build import build_bundle
from app.bundle.schema import logical_rows
from app.content.load import load_content
from app.distribution import trust
from app.distribution.publish import pieces
from app.refusal import Refusal, VerifyError

from .helpers import built_fixed, edit_article, write_translation


def test_every_article_reads_back_as_it_wasbuilt_fixed(content_dir, tmp_path, connect, small_blocks):
    write_translation(content_dir, "ar", "money-1", "المال", "احتفظ بنسخة من هذه الورقة.")
    content = built_fixed(content_dir, tmp_path / "b.bundle")
    conn = connect(tmp_path / "b.bundle")
    assert conn.execute("SELECT count(*) FROM article_blocks").fetchone()[0] > 3
    # One dictionary for each language that has articles.
    assert conn.execute("SELECT count(*) FROM article_dictionaries").fetchone()[0] == len(
        {a.lang for a in content.articles}
    )
    for article in content.articles:
        shown = bundle.article(conn, article.lang, content.source_language, article.slug)
        assert shown is not None and shown["html"] == article.html, (article.lang, article.slug)
    logical = {(r["lang"], r["slug"]): r["html"] for r in logical_rows(conn, "articles", "id")}
    assert logical == {(a.lang, a.slug): a.html for a in content.articles}


def test_two_builds_of_the_same_content_are_the_same_bytes(content_dir, tmp_path, small_blocks):
    built_fixed(content_dir, tmp_path / "a.bundle")
    built_fixed(content_dir, tmp_path / "b.bundle")
    assert (tmp_path / "a.bundle").read_bytes() == (tmp_path / "b.bundle").read_bytes()


def test_one_changed_article_changes_only_its_own_object(content_dir, tmp_path, connect, small_blocks):
    built_fixed(content_dir, tmp_path / "a.bundle")
    edit_article(content_dir, "rights-1", "copy", "copy of every page")
    built_fixed(content_dir, tmp_path / "b.bundle")
    before = {p.name: p.hash for p in pieces(connect(tmp_path / "a.bundle"))}
    after = {p.name: p.hash for p in pieces(connect(tmp_path / "b.bundle"))}
    assert before.keys() == after.keys()
    assert {name for name in before if before[name] != after[name]} == {"article/en/rights-1"}


def _kept(bundle_path: Path, tmp_path: Path, sql: str, params: tuple) -> Path:
    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(bundle_path.read_bytes())
    conn = sqlite3.connect(damaged)
    conn.execute(sql, params)
    conn.commit()
    conn.close()
    return damaged


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"\x28\xb5\x2f\xfdgarbage",  # a zstandard frame's magic number, then nonsense
        lambda data: data[: len(data) // 2],  # cut short, as by a copy that stopped
        lambda data: data + b"\x00" * 8,  # bytes after the frame's end
    ],
    ids=["garbage", "cut-short", "trailing-bytes"],
)
@pytest.mark.parametrize("table", ["article_blocks", "article_dictionaries"])
def test_a_damaged_block_or_dictionary_is_refused(bundle_path, tmp_path, connect, damage, table):
    trust.check_sqlite(bundle_path)
    data = connect(bundle_path).execute(f"SELECT data FROM {table} WHERE id = 1").fetchone()[0]
    damaged = _kept(bundle_path, tmp_path, f"UPDATE {table} SET data = ? WHERE id = 1", (damage(data),))
    with pytest.raises(VerifyError) as caught:
        trust.check_sqlite(damaged)
    assert caught.value.kind == Refusal.CORRUPT


def test_a_block_holding_other_html_is_refused(bundle_path, tmp_path, connect):
    conn = connect(bundle_path)
    row = conn.execute("SELECT b.data, d.data FROM article_blocks b JOIN article_dictionaries d ON d.id = b.dictionary"
                       " WHERE b.id = 1").fetchone()  # fmt: skip
    dictionary = blocks._inflated(row[1], None, "dictionary")
    raw = blocks._inflated(row[0], zstd.ZstdDict(dictionary, is_raw=True), "block")
    altered = raw.replace(b"<p>", b"<p>Send money to this number. ", 1)
    assert altered != raw
    # Same length, so every article still lies inside its block: only the digest can tell.
    altered = altered[: len(raw)]
    damaged = _kept(bundle_path, tmp_path, "UPDATE article_blocks SET data = ? WHERE id = 1",
                    (compress_block(altered, dictionary),))  # fmt: skip
    with pytest.raises(VerifyError) as caught:
        trust.check_sqlite(damaged)
    assert caught.value.kind == Refusal.DIGEST_MISMATCH


def test_an_article_pointing_outside_its_block_is_refused(bundle_path, tmp_path):
    damaged = _kept(bundle_path, tmp_path, "UPDATE articles SET size = size + 1000000 WHERE id = 1", ())
    with pytest.raises(VerifyError) as caught:
        trust.check_sqlite(damaged)
    assert caught.value.kind == Refusal.CORRUPT


def test_a_block_inflating_past_its_bound_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks, "MAX_BLOCK_RAW", 10_000)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE article_blocks (id INTEGER PRIMARY KEY, dictionary INTEGER, data BLOB)")
    conn.execute("CREATE TABLE article_dictionaries (id INTEGER PRIMARY KEY, data BLOB)")
    dictionary = b"<p>words</p>"
    conn.execute("INSERT INTO article_dictionaries VALUES (1, ?)", (blocks.compress_dictionary(dictionary),))
    conn.execute("INSERT INTO article_blocks VALUES (1, 1, ?)", (compress_block(b"a" * 1_000_000, dictionary),))
    with pytest.raises(blocks.BlockError):
        BlockReader(conn).html(1, 0, 10)


def test_blocks_keep_to_one_language_and_close_before_they_grow_too_large():
    rows = [{"id": i, "lang": lang, "html": "<p>" + "x" * 300 + "</p>"} for i, lang in enumerate("aaaaabbc", 1)]
    packed = list(pack_articles(rows, block_bytes=700))
    assert [len(stored) for stored, _block, _dictionary in packed] == [2, 2, 1, 2, 1]
    assert [block["id"] for _stored, block, _dictionary in packed] == [1, 2, 3, 4, 5]
    # One dictionary per run of a language, written with the first block that uses it.
    assert [d and d["id"] for _stored, _block, d in packed] == [1, None, None, 2, 3]
    for stored, block, _dictionary in packed:
        assert {row["block"] for row in stored} == {block["id"]}
        assert [row["start"] for row in stored] == [sum(r["size"] for r in stored[:i]) for i in range(len(stored))]
        assert "html" not in stored[0]


def test_building_reads_no_html_it_does_not_store(content_dir, tmp_path, connect):
    # The file holds each article's HTML once, in its block: no text or HTML column beside it.
    build_bundle(load_content(content_dir), tmp_path / "b.bundle")
    conn = connect(tmp_path / "b.bundle")
    columns = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    assert "html" not in columns and "text" not in columns
