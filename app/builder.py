"""Build a bundle: one read-only SQLite file holding a checked content set."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from .bundle import APPLICATION_ID, SCHEMA_VERSION, content_digest
from .content import Article, Content
from .search import fold

Progress = Callable[[Article], None]


def build_bundle(content: Content, out: Path, progress: Progress | None = None) -> str:
    """Write a checked content set to a bundle file and return its content digest.

    The file is written beside `out` under a temporary name and renamed into
    place, so a failed or interrupted build never leaves a half-written bundle.
    """
    if content.errors:
        raise ValueError("content has errors; run `waypost check` to list them")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        _write(db, content, progress)
        digest = content_digest(db.conn)
        db["meta"].insert_all(
            [
                {"key": "content_digest", "value": digest},
                {"key": "built_at", "value": datetime.now(UTC).isoformat(timespec="seconds")},
            ]
        )
        db.conn.commit()
        db.execute("VACUUM")
        db.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return digest


def _write(db: sqlite_utils.Database, content: Content, progress: Progress | None) -> None:
    source = content.source_language
    db["meta"].insert_all(
        [
            {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            {"key": "source_language", "value": source},
        ],
        pk="key",
    )
    db["languages"].insert_all(
        ({"code": lang.code, "name": lang.name, "dir": lang.dir, "position": i}
         for i, lang in enumerate(content.languages)),
        pk="code",
    )  # fmt: skip
    db["topics"].insert_all(({"slug": t.slug, "position": i} for i, t in enumerate(content.topics)), pk="slug")
    db["topic_names"].create({"topic": str, "lang": str, "name": str, "description": str}, pk=("topic", "lang"))
    db["topic_names"].insert_all(
        (
            {"topic": t.slug, "lang": code, "name": name, "description": t.descriptions.get(code, "")}
            for t in content.topics
            for code, name in sorted(t.names.items())
        )
    )
    db["articles"].create(
        {
            "id": int, "lang": str, "slug": str, "topic": str, "title": str, "summary": str,
            "html": str, "text": str, "updated": str, "review_by": str, "sources": str,
            "source_hash": str, "translation_of": str, "translation_status": str,
        },
        pk="id",
    )  # fmt: skip
    db["articles"].create_index(["lang", "slug"], unique=True)
    db["articles"].create_index(["topic", "lang"])
    db.execute("CREATE VIRTUAL TABLE search USING fts5(title, body, tokenize='unicode61 remove_diacritics 2')")
    # Sorted, so that row ids, and with them the digest, depend only on content.
    ordered = sorted(content.articles, key=lambda a: (a.lang, a.slug))
    for rowid, a in enumerate(ordered, start=1):
        db["articles"].insert(
            {
                "id": rowid, "lang": a.lang, "slug": a.slug, "topic": a.topic, "title": a.title,
                "summary": a.summary, "html": a.html, "text": a.text,
                "updated": a.updated.isoformat(), "review_by": a.review_by.isoformat(),
                "sources": json.dumps(a.sources, ensure_ascii=False, sort_keys=True),
                "source_hash": a.source_hash, "translation_of": a.translation_of,
                "translation_status": a.translation_status,
            }
        )  # fmt: skip
        db.execute(
            "INSERT INTO search (rowid, title, body) VALUES (?, ?, ?)",
            [rowid, fold(a.title), fold(f"{a.summary}\n\n{a.text}")],
        )
        if progress:
            progress(a)
    db["glossary"].create(
        {"lang": str, "id": str, "term": str, "definition": str, "source_hash": str,
         "translation_of": str, "translation_status": str},
        pk=("lang", "id"),
    )  # fmt: skip
    db["glossary"].insert_all(
        {"lang": t.lang, "id": t.id, "term": t.term, "definition": t.definition,
         "source_hash": t.source_hash, "translation_of": t.translation_of,
         "translation_status": t.translation_status}
        for t in sorted(content.terms, key=lambda t: (t.lang, t.id))
    )  # fmt: skip
