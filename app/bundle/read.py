"""Read a bundle: open it read-only, recompute its digest, and answer queries."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from app.bundle import search as searching
from app.bundle.blocks import BlockReader, BundleConnection
from app.bundle.schema import (
    APPLICATION_ID,
    CONTENT_META,
    SCHEMA_VERSION,
    content_digest,
    fts_storage,
    schema_refusal,
)

__all__ = ["APPLICATION_ID", "CONTENT_META", "SCHEMA_VERSION", "BundleError", "connect", "content_digest"]


class BundleError(Exception):
    """A file that is not a usable Waypost bundle; the message says why."""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a bundle read-only and check it is one this version can read."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"no bundle at {path}")
    # immutable: bundles are replaced by renaming a new file into place, never
    # changed, so SQLite may skip locking and change detection.
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    before = file_identity(path)
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=BundleConnection)
    conn.row_factory = sqlite3.Row
    harden(conn)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise BundleError(f"{path} is not a Waypost bundle")
        facts = meta(conn)
        version = facts.get("schema_version")
        # Inflated blocks are shared by the connections to this very file (blocks.INFLATED): the same
        # digest is not enough, as two builds of the same rows may lay their blocks out differently.
        # A file renamed into place while this one opened is shared with nothing.
        if before is not None and before == file_identity(path):
            conn.cache_key = (*before, facts.get("content_digest", ""))
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        conn.close()
        raise BundleError(f"{path} is not a readable SQLite file ({exc})") from None
    except BundleError:
        conn.close()
        raise
    if version != str(SCHEMA_VERSION):
        conn.close()
        raise BundleError(str(schema_refusal(path, version)))
    return conn


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int, int, int] | None:
    """Return what changes when a file is replaced by a rename or rewritten, or None when it is gone."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def harden(conn: sqlite3.Connection) -> None:
    """Stop a file's schema from running anything but plain reads (defence in depth).

    `trusted_schema=OFF` keeps functions with side effects out of views,
    triggers and index expressions; SQLite's defensive mode (Python 3.12 and
    later) also forbids writes to the schema. On Python 3.11, which Debian 12
    kiosks run, only the first holds; the structure check in trust.py, which
    refuses any view or trigger, is what stops a hostile schema there.
    """
    conn.execute("PRAGMA trusted_schema = OFF")
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:
        setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, True)  # type: ignore[attr-defined]


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Return rows as dicts, with SQLite's 0/1 flags as booleans."""
    rows = [dict(row) for row in cursor]
    for row in rows:
        for flag in ("fallback", "outdated", "sensitive"):
            if flag in row:
                row[flag] = bool(row[flag])
    return rows


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """Return the bundle's metadata as a dict."""
    return {row[0]: row[1] for row in conn.execute("SELECT key, value FROM meta")}


def languages(conn: sqlite3.Connection) -> list[dict[str, str]]:
    """Return the bundle's languages in switcher order; the first is the source."""
    rows = conn.execute("SELECT code, name, dir, fallback FROM languages ORDER BY position")
    return [dict(row) for row in rows]


def topics(conn: sqlite3.Connection, lang: str, source: str) -> list[dict[str, Any]]:
    """Return every topic with its name and description in lang (or the source)."""
    return _topics(conn, lang, source, None)


def topic(conn: sqlite3.Connection, lang: str, source: str, slug: str) -> dict[str, Any] | None:
    """Return one topic as `topics` does, or None when the bundle has no topic with that slug."""
    found = _topics(conn, lang, source, slug)
    return found[0] if found else None


def _topics(conn: sqlite3.Connection, lang: str, source: str, slug: str | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        """
        SELECT t.slug,
               coalesce(l.name, s.name) AS name,
               coalesce(nullif(l.description, ''), s.description) AS description,
               l.name IS NULL AS fallback, t.sensitive,
               (SELECT count(*) FROM articles a WHERE a.topic = t.slug AND a.lang = :source)
                 AS articles
        FROM topics t
        JOIN topic_names s ON s.topic = t.slug AND s.lang = :source
        LEFT JOIN topic_names l ON l.topic = t.slug AND l.lang = :lang
        WHERE :slug IS NULL OR t.slug = :slug
        ORDER BY t.position
        """,
        {"lang": lang, "source": source, "slug": slug},
    )
    return _rows(rows)


_LOCALISED = """
    SELECT coalesce(tr.id, src.id) AS id, src.updated AS source_updated,
           src.source_hash AS current_hash, tr.id IS NULL AS fallback
    FROM articles src
    LEFT JOIN articles tr ON tr.slug = src.slug AND tr.lang = :lang
    WHERE src.lang = :source
"""


def articles_in_topic(conn: sqlite3.Connection, lang: str, source: str, topic: str) -> list[dict]:
    """Return the topic's articles in lang, falling back to the source language."""
    rows = conn.execute(
        f"""
        SELECT a.lang, a.slug, a.topic, a.title, a.summary, a.translation_status, l.fallback
        FROM ({_LOCALISED} AND src.topic = :topic) l JOIN articles a ON a.id = l.id
        ORDER BY a.title
        """,
        {"lang": lang, "source": source, "topic": topic},
    )
    return _rows(rows)


def article(conn: sqlite3.Connection, lang: str, source: str, slug: str) -> dict | None:
    """Return one article in lang, or in the source language when not translated.

    `outdated` is true when the source changed after the translation was made.
    """
    cursor = conn.execute(
        f"""
        SELECT a.*, l.fallback, l.source_updated,
               a.translation_of IS NOT NULL AND a.translation_of != l.current_hash AS outdated,
               -- Sensitive when the editor marked the article (in any language) or its topic.
               EXISTS (SELECT 1 FROM articles x WHERE x.slug = a.slug AND x.sensitive)
                 OR EXISTS (SELECT 1 FROM topics t WHERE t.slug = a.topic AND t.sensitive) AS marked
        FROM ({_LOCALISED} AND src.slug = :slug) l JOIN articles a ON a.id = l.id
        """,
        {"lang": lang, "source": source, "slug": slug},
    )
    found = _rows(cursor)
    if not found:
        return None
    result = found[0]
    result["html"] = BlockReader(conn, shared=True).html(result.pop("block"), result.pop("start"), result.pop("size"))
    # The bundle keeps an article's HTML only; its plain text (the offline index, packs) comes from it.
    result["text"] = searching.html_text(result["html"])
    result["sensitive"] = bool(result.pop("marked"))
    result["sources"] = json.loads(result["sources"])
    # Bundles built before articles carried a review have no such column.
    result["review"] = json.loads(result["review"]) if result.get("review") else None
    return result


def glossary(conn: sqlite3.Connection, lang: str, source: str) -> list[dict]:
    """Return every glossary entry in lang, falling back to the source language."""
    rows = conn.execute(
        """
        SELECT src.id, coalesce(tr.lang, src.lang) AS lang,
               coalesce(tr.term, src.term) AS term,
               coalesce(tr.definition, src.definition) AS definition,
               tr.id IS NULL AS fallback
        FROM glossary src
        LEFT JOIN glossary tr ON tr.id = src.id AND tr.lang = :lang
        WHERE src.lang = :source
        ORDER BY coalesce(tr.term, src.term)
        """,
        {"lang": lang, "source": source},
    )
    return _rows(rows)


def glossary_synonyms(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the glossary entries of every language that have synonyms: id, term and synonyms."""
    rows = conn.execute("SELECT id, term, synonyms FROM glossary WHERE synonyms != '[]' ORDER BY lang, id")
    return [{"id": r["id"], "term": r["term"], "synonyms": json.loads(r["synonyms"])} for r in rows]


def search(conn: sqlite3.Connection, lang: str, source: str, query: str, limit: int, page: int = 1) -> dict:
    """Find articles in lang (and untranslated source articles) matching a reader's query.

    Returns the folded terms, the total count, the page shown and the number
    of pages, and up to `limit` results of that page with highlighted
    snippets; any text at all is a valid query, and a page past the last is
    the last. The index itself keeps to the articles a page in lang shows
    (search.scope_expression), ranks and cuts to the page; only those rows
    are read, and only their snippets made.
    """
    terms = searching.query_terms(query)
    if not terms:
        return {"terms": [], "total": 0, "results": [], "page": 1, "pages": 1}
    match = searching.match_expression(terms, lang)
    if limit < 1:
        return {"terms": terms, "total": _count(conn, match), "results": [], "page": 1, "pages": 1}
    results = _ranked(conn, lang, terms, match, limit, (page - 1) * limit)
    total = results[0]["total"] if results else 0
    if not results and page > 1:  # past the last page (an old link, a typed number): the last page
        total = _count(conn, match)
        page = max(1, -(-total // limit))
        results = _ranked(conn, lang, terms, match, limit, (page - 1) * limit)
    reader = BlockReader(conn, shared=True)
    # In block order, so results sharing a block inflate it once.
    for result in sorted(results, key=lambda r: (r["block"], r["start"])):
        html = reader.html(result.pop("block"), result.pop("start"), result.pop("size"))
        result["snippet"] = searching.html_snippet(html, terms)
        del result["total"]
    return {"terms": terms, "total": total, "results": results, "page": page, "pages": max(1, -(-total // limit))}


def _ranked(conn: sqlite3.Connection, lang: str, terms: list[str], match: str, limit: int, offset: int) -> list[dict]:
    """Return the rows of one page of hits, best first, each with the count of all hits."""
    # Ranked as bm25 ranks when the index keeps no term frequencies (detail=none, schema.FTS_OPTIONS),
    # where FTS5's own bm25() is 0 for every row: articles whose title holds more of the terms first,
    # then shorter ones (every hit holds every term, so only its length tells). FTS5 keeps each row's
    # length in its docsize table as a varint, which sorts by (length of the varint, its bytes).
    titles = " UNION ALL ".join(["SELECT rowid AS id FROM search_titles WHERE search_titles MATCH ?"] * len(terms))
    rows = conn.execute(
        f"""
        WITH titled AS MATERIALIZED (SELECT id, count(*) AS n FROM ({titles}) GROUP BY id),
        -- One pass of the index gives the hits, counted and ranked from there: a window count over
        -- the ranked rows cost more than the match itself for a common word (bench/bundle_scale.py).
        hits AS MATERIALIZED (SELECT rowid AS id FROM search WHERE search MATCH ?),
        top AS MATERIALIZED (
            SELECT h.id, coalesce(t.n, 0) AS n, d.sz AS sz
            FROM hits h JOIN search_docsize d ON d.id = h.id LEFT JOIN titled t ON t.id = h.id
            ORDER BY n DESC, length(d.sz), d.sz, h.id LIMIT ? OFFSET ?
        )
        SELECT a.lang, a.slug, a.topic, a.title, a.summary, a.block, a.start, a.size, a.lang != ? AS fallback,
               (SELECT count(*) FROM hits) AS total
        FROM top JOIN articles a ON a.id = top.id
        ORDER BY top.n DESC, length(top.sz), top.sz, a.slug
        """,
        (*(searching.title_expression([term]) for term in terms), match, limit, offset, lang),
    )
    return _rows(rows)


def _count(conn: sqlite3.Connection, match: str) -> int:
    return int(conn.execute("SELECT count(*) FROM search WHERE search MATCH ?", (match,)).fetchone()[0])


def storage(path: str | Path) -> dict[str, int] | None:
    """Return a bundle file's bytes split into the full-text index and the rest (content), or None.

    None when this SQLite lacks the dbstat table that measures it.
    """
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        pages = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    index = sum(size for name, size in pages if fts_storage(name))
    total = Path(path).stat().st_size
    return {"content": total - index, "index": index, "total": total}
