"""The bundle builder: deterministic digests, atomic writes, read-only serving."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from app.bundle import read as bundle
from app.bundle.build import build_bundle
from app.bundle.schema import SCHEMA_VERSION
from app.content.load import load_content


def test_the_same_content_gives_the_same_digest(content_dir, tmp_path, connect):
    content = load_content(content_dir)
    first = build_bundle(content, tmp_path / "a.bundle")
    second = build_bundle(load_content(content_dir), tmp_path / "b.bundle")
    assert first == second
    assert bundle.content_digest(connect(tmp_path / "a.bundle")) == first


def test_the_digest_does_not_depend_on_page_layout(bundle_path, copy_of, connect):
    copy = copy_of(bundle_path)
    before = bundle.content_digest(connect(bundle_path))
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("PRAGMA page_size = 1024")
        conn.execute("VACUUM")
    assert bundle.content_digest(connect(copy)) == before


def test_changing_one_word_changes_the_digest(content_dir, tmp_path):
    first = build_bundle(load_content(content_dir), tmp_path / "a.bundle")
    path = content_dir / "articles/en/money-1.md"
    path.write_text(path.read_text().replace("Keep a copy", "Keep one copy"))
    assert build_bundle(load_content(content_dir), tmp_path / "b.bundle") != first


def test_the_bundle_holds_metadata_languages_topics_articles_and_glossary(bundle_path, connect):
    conn = connect(bundle_path)
    meta = bundle.meta(conn)
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["source_language"] == "en"
    assert len(meta["content_digest"]) == 64 and meta["built_at"]
    assert [lang["code"] for lang in bundle.languages(conn)] == ["en", "ar", "fa", "fr", "es", "uk"]
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 13
    assert conn.execute("SELECT count(*) FROM glossary").fetchone()[0] == 1


def test_content_with_errors_is_never_built(content_dir, tmp_path):
    (content_dir / "articles/en/money-1.md").write_text("no front matter")
    with pytest.raises(ValueError, match="content has errors"):
        build_bundle(load_content(content_dir), tmp_path / "x.bundle")
    assert list(tmp_path.glob("*x.bundle*")) == []


def test_rebuilding_replaces_the_file_without_leaving_temporary_files(content_dir, tmp_path):
    out = tmp_path / "live.bundle"
    build_bundle(load_content(content_dir), out)
    build_bundle(load_content(content_dir), out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["live.bundle"]


def test_the_server_opens_the_bundle_read_only(bundle_path, connect):
    conn = connect(bundle_path)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM articles")


@pytest.mark.parametrize("kind", ["not sqlite", "empty", "other sqlite"])
def test_a_file_that_is_not_a_bundle_is_refused_clearly(tmp_path, kind):
    path = tmp_path / "bad.bundle"
    if kind == "not sqlite":
        path.write_bytes(b"hello" * 1000)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE t (x)")
            conn.commit()
    with pytest.raises(bundle.BundleError):
        bundle.connect(path)
