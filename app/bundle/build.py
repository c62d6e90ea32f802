"""Build a bundle: one read-only SQLite file holding a checked content set.

Building has two steps. `bundle_rows` turns a content set into the rows of
every table; `write_bundle` writes rows into a new file. The sync assembler
(app/distribution/publish.py) writes rows it downloaded through the same `write_bundle`,
so a bundle rebuilt on a kiosk has exactly the rows the publisher signed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from app import fsutil
from app.bundle.place_rows import place_rows
from app.bundle.schema import APPLICATION_ID, INDEXES, PRIMARY_KEYS, SCHEMA_VERSION, SEARCH_SQL, TABLES, content_digest
from app.bundle.search import fold, synonyms_of
from app.content.load import Content

Rows = dict[str, list[dict[str, Any]]]
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
    """Return the rows of every table for a checked content set."""
    rows: Rows = {
        "meta": [
            {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            {"key": "source_language", "value": content.source_language},
        ],
        "languages": [
            {"code": lang.code, "name": lang.name, "dir": lang.dir, "position": i}
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
        "articles": [],
        "search": [],
    }
    glossary = [{"id": t.id, "term": t.term, "synonyms": t.synonyms} for t in content.terms]
    # Sorted, so that row ids, and with them the digest, depend only on content.
    ordered = sorted(content.articles, key=lambda a: (a.lang, a.slug))
    for rowid, a in enumerate(ordered, start=1):
        rows["articles"].append(
            {
                "id": rowid, "lang": a.lang, "slug": a.slug, "topic": a.topic, "title": a.title,
                "summary": a.summary, "html": a.html, "text": a.text,
                "updated": a.updated.isoformat(), "review_by": a.review_by.isoformat(),
                "sources": json.dumps(a.sources, ensure_ascii=False, sort_keys=True),
                "source_hash": a.source_hash, "translation_of": a.translation_of,
                "translation_status": a.translation_status, "review": _review_json(a.review),
                "sensitive": int(a.sensitive),
            }
        )  # fmt: skip
        # The glossary's other words for the terms it uses, so "hawala" finds remittance articles.
        synonyms = " ".join(synonyms_of(a.html, a.text, glossary))
        body = fold(f"{a.summary}\n\n{a.text}" + (f"\n\n{synonyms}" if synonyms else ""))
        rows["search"].append({"rowid": rowid, "title": fold(a.title), "body": body})
    rows["glossary"] = [
        {"lang": t.lang, "id": t.id, "term": t.term, "definition": t.definition,
         "source_hash": t.source_hash, "translation_of": t.translation_of,
         "translation_status": t.translation_status,
         "synonyms": json.dumps(t.synonyms, ensure_ascii=False)}
        for t in sorted(content.terms, key=lambda t: (t.lang, t.id))
    ]  # fmt: skip
    rows.update(place_rows(content.places))
    return rows


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
        for table in TABLES:
            if table != "articles":
                db.table(table).insert_all(rows.get(table, []))
        for article in rows.get("articles", []):
            db.table("articles").insert(article)
            if progress:
                progress(article)
        db.conn.executemany(
            "INSERT INTO search (rowid, title, body) VALUES (:rowid, :title, :body)", rows.get("search", [])
        )
        digest = content_digest(db.conn)
        built_at = built_at or datetime.now(UTC).isoformat(timespec="seconds")
        extra = {"content_digest": digest, "built_at": built_at}
        if seal:
            extra.update(seal(digest, built_at))
        db.table("meta").insert_all({"key": k, "value": v} for k, v in extra.items())
        db.conn.commit()
        db.execute("VACUUM")
        db.close()
        fsutil.fsync_file(tmp)
        fsutil.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return digest


def _create_tables(db: sqlite_utils.Database) -> None:
    for table, columns in TABLES.items():
        db.table(table).create(columns, pk=PRIMARY_KEYS[table])
    for name, (on_table, indexed, unique) in INDEXES.items():
        db.table(on_table).create_index(list(indexed), index_name=name, unique=unique)
    db.execute(SEARCH_SQL)
