"""The bundle format, defined once: tables, content digest, canonical bytes and the version policy.

Everything that writes or reads a bundle takes its shape from here: the
builder and the sync assembler write these tables, the reader and the
verifier check a file has exactly these tables and nothing else, and the
digest that publishers sign is computed over these rows.

Version policy. `SCHEMA_VERSION` is one integer, raised whenever the tables
or their meaning change; changes are batched, so kiosks upgrade once per
release rather than once per feature (CHANGELOG.md lists each). A kiosk reads
exactly its own version: a bundle with a higher one is refused with "update
Waypost" (`Refusal.NEWER_SCHEMA`), a lower one with "ask the publisher for a
bundle built by a current Waypost" (`Refusal.OLDER_SCHEMA`). Publishers
update Waypost before kiosks can be expected to, so they build for the
version their kiosks read, and CHANGELOG.md says when a release raises it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any

from app.bundle.blocks import BlockReader
from app.refusal import Refusal, VerifyError, printable

SCHEMA_VERSION = 5
APPLICATION_ID = 0x57505354  # "WPST": marks a SQLite file as a Waypost bundle

# Every table and its columns, in the order they are written.
TABLES: dict[str, dict[str, type]] = {
    "meta": {"key": str, "value": str},
    # fallback: the CLDR locale for dates and numbers of a language CLDR lacks ("" for the others).
    "languages": {"code": str, "name": str, "dir": str, "position": int, "fallback": str},
    "topics": {"slug": str, "position": int, "sensitive": int},
    "topic_names": {"topic": str, "lang": str, "name": str, "description": str},
    "articles": {
        "id": int,
        "lang": str,
        "slug": str,
        "topic": str,
        "title": str,
        "summary": str,
        # Where the article's HTML lies in its block (app/bundle/blocks.py); its logical row, which the
        # digest and sync see, has the HTML itself in their place (ARTICLE_COLUMNS).
        "block": int,
        "start": int,
        "size": int,
        "updated": str,
        "review_by": str,
        "sources": str,
        "source_hash": str,
        "translation_of": str,
        "translation_status": str,
        "review": str,
        "sensitive": int,
    },
    # Articles' HTML, compressed a block of consecutive articles at a time, each block after its
    # language's dictionary (app/bundle/blocks.py).
    "article_blocks": {"id": int, "dictionary": int, "data": bytes},
    "article_dictionaries": {"id": int, "data": bytes},
    "glossary": {
        "lang": str,
        "id": str,
        "term": str,
        "definition": str,
        "source_hash": str,
        "translation_of": str,
        "translation_status": str,
        "synonyms": str,
    },
    # Remittance prices (app/bundle/remittance_rows.py); decimals are stored as text, exactly.
    "remit_source": {"key": str, "value": str},
    "remit_corridors": {
        "corridor": str,
        "source_code": str,
        "destination_code": str,
        "source_name": str,
        "destination_name": str,
        "source_territory": str,
        "destination_territory": str,
        "send_currency": str,
        "receive_currency": str,
        "newest": str,
        "flags": str,
        "providers": int,
    },
    "remit_costs": {"corridor": str, "period": str, "amount": str, "cost": str},
    "remit_services": {
        "corridor": str,
        "position": int,
        "firm": str,
        "firm_type": str,
        "product": str,
        "payment_instrument": str,
        "access_point": str,
        "pickup_method": str,
        "speed": str,
        "transparent": int,
        "accessible": int,
        "interbank": str,
        **{f"{a}_{k}": str for a in ("cc1", "cc2") for k in ("amount", "fee", "rate", "margin", "total")},
    },
    # Local help (issue #14): places, their emergency numbers, their HSDS services.
    # JSON columns hold what is only ever shown, never queried.
    "places": {
        "id": str,
        "parent": str,
        "country": str,
        "timezone": str,
        "names": str,
        "sample": int,
        "contact": str,
        "position": int,
    },
    "emergency_numbers": {
        "place": str,
        "position": int,
        "number": str,
        "tel": str,
        "names": str,
        "source": str,
        "checked": str,
    },
    "services": {
        "place": str,
        "id": str,
        "category": str,
        "name": str,
        "checked": str,
        "data": str,
    },
}
PRIMARY_KEYS: dict[str, str | tuple[str, ...]] = {
    "meta": "key",
    "languages": "code",
    "topics": "slug",
    "topic_names": ("topic", "lang"),
    "articles": "id",
    "article_blocks": "id",
    "article_dictionaries": "id",
    "glossary": ("lang", "id"),
    "remit_source": "key",
    "remit_corridors": "corridor",
    "remit_costs": ("corridor", "period", "amount"),
    "remit_services": ("corridor", "position"),
    "places": "id",
    "emergency_numbers": ("place", "position"),
    "services": ("place", "id"),
}
# Indexes the builder creates, by name; SQLite adds its own for primary keys.
INDEXES = {
    "idx_articles_lang_slug": ("articles", ("lang", "slug"), True),
    "idx_articles_topic_lang": ("articles", ("topic", "lang"), False),
}
# The full-text index: contentless FTS5 tables over folded text (the index only, no copy of the
# text; SQLite here predates contentless_delete, and a bundle is never changed in place). Their rows
# are derived from the articles and glossary (build.search_rows), so they are not in the digest, and
# a kiosk derives them from synced rows: a hub ships no index, the bundle file holds one.
# `search` holds each article's title, summary, text and glossary synonyms, and the scope tokens a
# search filters on (search.scope_tokens: a character no query term can hold keeps them unmatchable);
# `search_titles` the titles again, so a title match ranks first (read.search).
# detail=none: only which rows hold a term. Measured on the 500-article corpus (bench/bundle_scale.py):
# detail=column 0.97 MB, none 0.42 MB, full 2.24 MB. The ranking loses nothing it had: detail=column
# already kept no term frequency within a column, and the title weight it gave is the title table's.
# Neither holds positions, so no phrase or NEAR queries, which we never make.
FTS_OPTIONS = "content='', detail=none, tokenize='unicode61 remove_diacritics 2'"
# Derived full-text tables, by name: their columns. Any room may add one; structure_problem checks
# each is exactly `CREATE VIRTUAL TABLE name USING fts5(columns, FTS_OPTIONS)` with its shadow tables.
FTS_TABLES: dict[str, tuple[str, ...]] = {"search": ("body",), "search_titles": ("title",)}
# Options some of them add: the titles are only matched, never ranked by length (read.search), so
# they keep no row lengths (columnsize=0: no docsize table; 0.09 MB at 10,000 articles).
FTS_EXTRA_OPTIONS: dict[str, str] = {"search_titles": "columnsize=0"}
SEARCH_TABLE = "search"
# The shadow tables FTS5 keeps for a contentless table (less _docsize with columnsize=0).
FTS_SHADOWS = ("_data", "_idx", "_docsize", "_config")


def fts_sql(name: str) -> str:
    """Return the statement that creates a derived full-text table."""
    extra = f", {FTS_EXTRA_OPTIONS[name]}" if name in FTS_EXTRA_OPTIONS else ""
    return f"CREATE VIRTUAL TABLE {name} USING fts5({', '.join(FTS_TABLES[name])}, {FTS_OPTIONS}{extra})"


def fts_shadow_tables(name: str) -> list[str]:
    """Return the shadow tables FTS5 keeps for a derived full-text table."""
    sizes = "columnsize=0" not in FTS_EXTRA_OPTIONS.get(name, "")
    return [name + shadow for shadow in FTS_SHADOWS if sizes or shadow != "_docsize"]


def fts_storage(name: str) -> bool:
    """Return whether a SQLite object name (a table or shadow table) belongs to a full-text index."""
    return any(name == table or name.startswith(table + "_") for table in (*FTS_TABLES, "service_index"))


# Local help's index (app/bundle/service_search.py): derived like `search`, from the places and services
# rows, so neither the digest nor the hub objects carry its text. Contentless, but detail=column, not
# the articles' detail=none: its ranking weighs a name match over a text match with bm25(), which under
# detail=none gives every row 0, and a place's few hundred services make its index small either way.
# service_keys maps an index rowid to its row (places first, then services), since the services
# table has no integer key of its own (and VACUUM may renumber an implicit rowid).
SERVICE_INDEX_SQL = (
    "CREATE VIRTUAL TABLE service_index USING fts5(title, body, content='', detail=column, "
    "tokenize='unicode61 remove_diacritics 2')"
)
SERVICE_KEYS_SQL = "CREATE TABLE service_keys (key INTEGER PRIMARY KEY, place TEXT NOT NULL, id TEXT NOT NULL)"
DERIVED_SQL = {
    "service_index": SERVICE_INDEX_SQL,
    "service_keys": SERVICE_KEYS_SQL,
    **{f"service_index_{shadow}": None for shadow in ("data", "idx", "docsize", "config")},
}

# The rows the content digest covers, table by table, in a fixed order.
DIGEST_TABLES = {
    "languages": "code",
    "topics": "slug",
    "topic_names": "topic, lang",
    "articles": "id",
    "glossary": "lang, id",
    "remit_source": "key",
    "remit_corridors": "corridor",
    "remit_costs": "corridor, period, amount",
    "remit_services": "corridor, position",
    "places": "id",
    "emergency_numbers": "place, position",
    "services": "place, id",
}
# The columns of an article's logical row, as the digest and sync see it: its HTML where the stored
# row says where that HTML lies (blocks.py).
ARTICLE_COLUMNS = tuple(
    name
    for column in TABLES["articles"]
    for name in (("html",) if column == "block" else (column,))
    if name not in ("start", "size")
)
# Metadata that is content; build time, digest and the signer's details are not.
CONTENT_META = ("schema_version", "source_language")
# Metadata a signed bundle carries about its signing, checked against the signature.
SEAL_META = ("bundle_version", "expires", "key_id", "publisher")

_SQL_TYPES = {str: "TEXT", int: "INTEGER", bytes: "BLOB"}


def logical_rows(conn: sqlite3.Connection, table: str, order: str, where: str = "") -> Iterator[dict[str, Any]]:
    """Yield a table's rows, columns in order, articles with their HTML: the rows that are signed and synced."""
    cursor = conn.execute(f"SELECT * FROM {table} {where} ORDER BY {order}")
    names = [column[0] for column in cursor.description]
    if table != "articles":
        for values in cursor:
            yield dict(zip(names, values, strict=True))
        return
    reader = BlockReader(conn)
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["html"] = reader.html(row["block"], row["start"], row["size"])
        yield {name: row[name] for name in ARTICLE_COLUMNS}


def seal_meta(version: int, expires: date, key_id: str, publisher: str) -> dict[str, str]:
    """Return the signing facts a signed bundle's metadata records; the envelope and manifest sign the same."""
    return {"bundle_version": str(version), "expires": expires.isoformat(), "key_id": key_id, "publisher": publisher}


def schema_refusal(name: object, version: object) -> VerifyError:
    """Return the refusal of a bundle whose format is not SCHEMA_VERSION (the version policy above)."""
    number = int(version) if isinstance(version, int) or (isinstance(version, str) and version.isdigit()) else None
    if number is not None and number > SCHEMA_VERSION:
        return VerifyError(
            Refusal.NEWER_SCHEMA,
            f"{name} has bundle format {number}, newer than this Waypost reads "
            f"({SCHEMA_VERSION}): update Waypost on this kiosk first, then import it again",
        )
    shown = "none" if version is None else printable(version, 20)
    return VerifyError(
        Refusal.OLDER_SCHEMA,
        f"{name} has bundle format {shown}, older than this Waypost reads "
        f"({SCHEMA_VERSION}): ask the publisher for a bundle built by a current Waypost",
    )


def canonical(value: Any) -> bytes:
    """Return the one byte form of a JSON value that is hashed or signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_digest(conn: sqlite3.Connection) -> str:
    """Return the SHA-256 over the bundle's canonical rows, whatever its page layout."""
    digest = hashlib.sha256()
    for key in CONTENT_META:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        digest.update(_row_bytes(["meta", key, row[0] if row else None]))
    for table, order in DIGEST_TABLES.items():
        for row in logical_rows(conn, table, order):
            digest.update(_row_bytes([table, *row.values()]))
    return digest.hexdigest()


def _row_bytes(values: list[Any]) -> bytes:
    # Not canonical(): a row is a list, and its form is part of every digest signed so far.
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def structure_problem(conn: sqlite3.Connection) -> str | None:
    """Return what differs between a database's schema and ours, or None when it is exactly ours.

    Compared by structure (names, columns, types, keys), not by SQL text,
    which differs between sqlite-utils versions. A view, a trigger, an extra
    table or index, or a generated column is a difference: a file with any of
    them could show readers something other than the rows that were checked.
    """
    objects = conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    kinds = {row[1]: row[0] for row in objects}
    for name, kind in sorted(kinds.items()):
        if kind in ("view", "trigger"):
            return f"it contains a {kind} ({printable(name)})"
    expected_tables = {
        *TABLES,
        *DERIVED_SQL,
        *FTS_TABLES,
        *(shadow for name in FTS_TABLES for shadow in fts_shadow_tables(name)),
    }
    tables = {name for name, kind in kinds.items() if kind == "table"}
    if tables != expected_tables:
        extra, missing = sorted(tables - expected_tables), sorted(expected_tables - tables)
        return "unexpected tables: " + printable(", ".join(extra)) if extra else "missing tables: " + ", ".join(missing)
    for table, columns in TABLES.items():
        problem = _table_problem(conn, table, columns)
        if problem:
            return problem
    indexes = {name for name, kind in kinds.items() if kind == "index" and not name.startswith("sqlite_autoindex_")}
    if indexes != set(INDEXES):
        return "unexpected indexes: " + printable(", ".join(sorted(indexes ^ set(INDEXES))))
    for name, (on_table, indexed, unique) in INDEXES.items():
        info = conn.execute(f"PRAGMA index_info({name})").fetchall()
        flags = [row for row in conn.execute(f"PRAGMA index_list({on_table})") if row[1] == name]
        if tuple(row[2] for row in info) != indexed or not flags or bool(flags[0][2]) != unique:
            return f"index {name} is not the one Waypost makes"
    for name, fts_columns in FTS_TABLES.items():
        found = [row[1] for row in conn.execute(f"PRAGMA table_xinfo({name})") if not row[6]]
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0] or ""
        # The index's options (contentless, detail, tokenizer) are in its SQL, which is ours verbatim.
        if tuple(found) != fts_columns or sql != fts_sql(name):
            return f"the search index {name} is not the one Waypost makes"
    return _derived_problem(conn)


def _derived_problem(conn: sqlite3.Connection) -> str | None:
    # Ours verbatim, as for `search`; FTS5 writes its shadow tables' SQL itself.
    for name, want in DERIVED_SQL.items():
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        if want is not None and sql != want:
            return f"table {name} is not the one Waypost makes"
    return None


def _table_problem(conn: sqlite3.Connection, table: str, columns: dict[str, type]) -> str | None:
    keys = PRIMARY_KEYS[table]
    keys = (keys,) if isinstance(keys, str) else keys
    # table_xinfo also lists generated columns (hidden != 0), which table_info leaves out.
    found = conn.execute(f"PRAGMA table_xinfo({table})").fetchall()
    want = [
        (name, _SQL_TYPES[kind], (keys.index(name) + 1) if name in keys else 0, 0) for name, kind in columns.items()
    ]
    got = [(row[1], row[2].upper(), row[5], row[6]) for row in found]
    if got != want:
        return f"table {table} does not have Waypost's columns"
    if any(row[4] is not None for row in found):
        return f"table {table} has default values Waypost never sets"
    return None
