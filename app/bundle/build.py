"""Build a bundle: one read-only SQLite file holding a checked content set.

Building has two steps. `bundle_rows` turns a content set into the rows of
every table; `write_bundle` writes rows into a new file. The sync assembler
(app/distribution/publish.py) writes rows it downloaded through the same `write_bundle`,
so a bundle rebuilt on a kiosk has exactly the rows the publisher signed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from app import fsutil, parallel
from app.bundle import service_search
from app.bundle.blocks import pack_articles
from app.bundle.place_rows import place_rows
from app.bundle.remittance_rows import remittance_rows
from app.bundle.schema import (
    APPLICATION_ID,
    ARTICLE_COLUMNS,
    FTS_TABLES,
    INDEXES,
    PRIMARY_KEYS,
    SCHEMA_VERSION,
    TABLES,
    content_digest,
    fts_sql,
    logical_rows,
)
from app.bundle.search import fold, html_text, index_text, scope_tokens, synonyms_of
from app.content.load import Content

Rows = dict[str, Iterable[dict[str, Any]]]
# Called once per article row written, for progress bars.
Progress = Callable[[dict[str, Any]], None]
# Given the content digest and build time, returns the metadata that seals them (the signature).
Seal = Callable[[str, str], Mapping[str, str]]


def build_bundle(content: Content, out: Path, progress: Progress | None = None, seal: Seal | None = None) -> str:
    """Write a checked content set to a bundle file and return its content digest.

    The file is written beside `out` under a temporary name and renamed into
    place, so a failed or interrupted build never leaves a half-written bundle.
    """
    if content.errors:
        raise ValueError("content has errors; run `waypost check` to list them")
    return write_bundle(bundle_rows(content), out, progress=progress, seal=seal)


def bundle_rows(content: Content) -> Rows:
    """Return the rows of every table for a checked content set; articles come one at a time, as written."""
    return {
        "meta": [
            {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            {"key": "source_language", "value": content.source_language},
        ],
        "languages": [
            {"code": lang.code, "name": lang.name, "dir": lang.dir, "position": i, "fallback": lang.fallback or ""}
            for i, lang in enumerate(content.languages)
        ],
        "topics": [
            {"slug": t.slug, "position": i, "sensitive": int(t.sensitive)} for i, t in enumerate(content.topics)
        ],
        "topic_names": [
            {"topic": t.slug, "lang": code, "name": name, "description": t.descriptions.get(code, "")}
            for t in content.topics
            for code, name in sorted(t.names.items())
        ],
        "articles": _article_rows(content),
        "glossary": [
            {"lang": t.lang, "id": t.id, "term": t.term, "definition": t.definition,
             "source_hash": t.source_hash, "translation_of": t.translation_of,
             "translation_status": t.translation_status,
             "synonyms": json.dumps(t.synonyms, ensure_ascii=False)}
            for t in sorted(content.terms, key=lambda t: (t.lang, t.id))
        ],
        **remittance_rows(content.remittances),
        **place_rows(content.places),
    }  # fmt: skip


def _article_rows(content: Content) -> Iterator[dict[str, Any]]:
    # Sorted, so that row ids, and with them the digest, depend only on content.
    ordered = sorted(content.articles, key=lambda a: (a.lang, a.slug))
    for rowid, a in enumerate(ordered, start=1):
        yield {
            "id": rowid, "lang": a.lang, "slug": a.slug, "topic": a.topic, "title": a.title,
            "summary": a.summary, "html": a.html,
            "updated": a.updated.isoformat(), "review_by": a.review_by.isoformat(),
            "sources": json.dumps(a.sources, ensure_ascii=False, sort_keys=True),
            "source_hash": a.source_hash, "translation_of": a.translation_of,
            "translation_status": a.translation_status, "review": _review_json(a.review),
            "sensitive": int(a.sensitive),
        }  # fmt: skip


def search_rows(conn: sqlite3.Connection) -> Iterator[tuple[int, str, str, str]]:
    """Yield the search index's rows (rowid, title, body, scope), derived from a bundle's articles and glossary.

    The one definition of what is indexed: the builder and the sync assembler
    both index what this yields, so a kiosk's index is the publisher's.
    """
    glossary = [
        {"id": r["id"], "term": r["term"], "synonyms": json.loads(r["synonyms"])}
        for r in logical_rows(conn, "glossary", "lang, id", "WHERE synonyms != '[]'")
    ]
    source = conn.execute("SELECT value FROM meta WHERE key = 'source_language'").fetchone()
    codes = [row[0] for row in conn.execute("SELECT code FROM languages ORDER BY position")]
    # The languages each source article has no translation in (it stands in for them there).
    have = conn.execute(
        "SELECT slug, group_concat(lang) FROM articles GROUP BY slug HAVING sum(lang = ?) > 0",
        (source[0] if source else "",),
    )
    missing = {slug: [code for code in codes if code not in langs.split(",")] for slug, langs in have}
    # Each row's words are folded in worker processes where there are many; its scope is cheap, so here.
    held: deque[tuple[int, str, str]] = deque()

    def articles() -> Iterator[tuple[str, str, str]]:
        for a in logical_rows(conn, "articles", "id"):
            held.append((a["id"], a["lang"], a["slug"]))
            yield a["title"], a["summary"], a["html"]

    for title, body in parallel.ordered_map(_indexed, _glossary, (glossary,), articles(), least=INDEX_PARALLEL_LEAST):
        rowid, lang, slug = held.popleft()
        if slug not in missing:
            scope = ""  # a translation of nothing: no page shows it, so no search finds it
        else:
            scope = scope_tokens(lang, missing[slug] if source and lang == source[0] else [])
        yield rowid, title, body, scope


# Fewer articles than this are indexed here: starting worker processes would cost more than they save.
INDEX_PARALLEL_LEAST = 200


def _glossary(glossary: list[dict]) -> list[dict]:
    return glossary


def _indexed(glossary: list[dict], article: tuple[str, str, str]) -> tuple[str, str]:
    """Return an article's title and body as the search index holds them."""
    title, summary, html = article
    text = html_text(html)
    # The glossary's other words for the terms it uses, so "hawala" finds remittance articles.
    synonyms = " ".join(synonyms_of(html, text, glossary)) if glossary else ""
    body = index_text(fold(f"{summary}\n\n{text}" + (f"\n\n{synonyms}" if synonyms else "")))
    return index_text(fold(title)), body


def _review_json(review: Mapping[str, Any] | None) -> str | None:
    """Return an article's expert review as JSON, or None when nobody has reviewed it."""
    if not review:
        return None
    return json.dumps({**review, "date": review["date"].isoformat()}, ensure_ascii=False, sort_keys=True)


def write_bundle(
    rows: Mapping[str, Iterable[dict[str, Any]]],
    out: Path,
    *,
    progress: Progress | None = None,
    seal: Seal | None = None,
    built_at: str | None = None,
) -> str:
    """Write rows to a new bundle file atomically and return its content digest.

    `seal`, given the digest and build time, returns the metadata (version,
    expiry, signature) stored beside them. `built_at` defaults to now.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = fsutil.temp_path(out)
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        _create_tables(db)
        conn = db.conn
        for table in TABLES:
            if table == "articles":
                _write_articles(conn, rows.get(table, ()), progress)
            elif table not in ("article_blocks", "article_dictionaries"):  # written with the articles
                conn.executemany(_insert(table), _stored(table, rows.get(table, ())))
        _write_index(conn)
        service_search.write_index(conn)  # local help's index, derived from the rows just written
        digest = content_digest(conn)
        built_at = built_at or datetime.now(UTC).isoformat(timespec="seconds")
        extra = {"content_digest": digest, "built_at": built_at}
        if seal:
            extra.update(seal(digest, built_at))
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", extra.items())
        conn.commit()
        db.execute("VACUUM")
        db.close()
        fsutil.fsync_file(tmp)
        fsutil.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return digest


def _insert(table: str) -> str:
    columns = TABLES[table]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def _stored(table: str, rows: Iterable[dict[str, Any]], columns: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
    """Yield rows with every column present (TABLES' or those given).

    Values are stored as sqlite-utils stored them before rows were streamed:
    lists and dicts as JSON, dates in ISO form.
    """
    names = tuple(columns) or tuple(TABLES[table])
    for row in rows:
        yield {name: _value(row.get(name)) for name in names}


def _write_articles(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]], progress: Progress | None) -> None:
    """Write article rows and their HTML's blocks, a block at a time; report each article written."""
    for stored, block, dictionary in pack_articles(_stored("articles", rows, ARTICLE_COLUMNS)):
        if dictionary:
            conn.execute(_insert("article_dictionaries"), dictionary)
        conn.executemany(_insert("articles"), stored)
        conn.execute(_insert("article_blocks"), block)
        if progress is not None:
            for row in stored:
                progress(row)


def _write_index(conn: sqlite3.Connection) -> None:
    """Fill the full-text tables from the rows just written (search_rows), then merge each into one segment."""
    titles: list[tuple[int, str]] = []

    def bodies() -> Iterator[tuple[int, str]]:
        for rowid, title, body, scope in search_rows(conn):
            titles.append((rowid, title))
            yield rowid, f"{title}\n\n{body}\n\n{scope}"

    conn.executemany("INSERT INTO search (rowid, body) VALUES (?, ?)", bodies())
    conn.executemany("INSERT INTO search_titles (rowid, title) VALUES (?, ?)", titles)
    for name in FTS_TABLES:
        conn.execute(f"INSERT INTO {name} ({name}) VALUES ('optimize')")


def _value(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=repr, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _create_tables(db: sqlite_utils.Database) -> None:
    for table, columns in TABLES.items():
        db.table(table).create(columns, pk=PRIMARY_KEYS[table])
    for name, (on_table, indexed, unique) in INDEXES.items():
        db.table(on_table).create_index(list(indexed), index_name=name, unique=unique)
    for name in FTS_TABLES:
        db.execute(fts_sql(name))
