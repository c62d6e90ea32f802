"""Build a bundle: one read-only SQLite file holding a checked content set.

Building has two steps. `bundle_rows` turns a content set into the rows of
every table; `write_bundle` writes rows into a new file. The sync assembler
(app/distribution/publish.py) writes rows it downloaded through the same `write_bundle`,
so a bundle rebuilt on a kiosk has exactly the rows the publisher signed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from app import fsutil
from app.bundle import service_search
from app.bundle.place_rows import place_rows
from app.bundle.remittance_rows import remittance_rows
from app.bundle.schema import (
    APPLICATION_ID,
    INDEXES,
    PACKED_COLUMNS,
    PRIMARY_KEYS,
    SCHEMA_VERSION,
    SEARCH_SQL,
    TABLES,
    content_digest,
    logical_rows,
    pack_html,
)
from app.bundle.search import fold, html_text, scope_tokens, synonyms_of
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
    for a in logical_rows(conn, "articles", "id"):
        text = html_text(a["html"])
        # The glossary's other words for the terms it uses, so "hawala" finds remittance articles.
        synonyms = " ".join(synonyms_of(a["html"], text, glossary))
        body = fold(f"{a['summary']}\n\n{text}" + (f"\n\n{synonyms}" if synonyms else ""))
        if a["slug"] not in missing:
            scope = ""  # a translation of nothing: no page shows it, so no search finds it
        else:
            scope = scope_tokens(a["lang"], missing[a["slug"]] if source and a["lang"] == source[0] else [])
        yield a["id"], fold(a["title"]), body, scope


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
        for table, columns in TABLES.items():
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
            conn.executemany(insert, _stored(table, rows.get(table, ()), progress))
        conn.executemany("INSERT INTO search (rowid, title, body, scope) VALUES (?, ?, ?, ?)", search_rows(conn))
        conn.execute("INSERT INTO search (search) VALUES ('optimize')")
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


def _stored(table: str, rows: Iterable[dict[str, Any]], progress: Progress | None) -> Iterator[dict[str, Any]]:
    """Yield rows as stored: every column present, packed columns compressed; report each article written.

    Values are stored as sqlite-utils stored them before rows were streamed:
    lists and dicts as JSON, dates in ISO form.
    """
    columns, packed = TABLES[table], PACKED_COLUMNS.get(table, ())
    for row in rows:
        stored = {name: _value(row.get(name)) for name in columns}
        for name in packed:
            stored[name] = pack_html(str(stored[name]))
        yield stored
        if progress and table == "articles":
            progress(row)


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
    db.execute(SEARCH_SQL)
