"""Pages kept on disk, so that a restart answers them at once: after a power cut, say.

The response cache (cache.py) keeps what it compresses in memory, which a
restart empties; the shelf is a copy of those pages in one SQLite file of the
instance folder, read when memory has not got a page yet. Each page is kept
under its generation (the bundle's digest, the app's fingerprint and the
freshness stamp, which holds the day) and its path, so nothing kept for
another bundle, other settings, other code or another day is ever read:
the first page kept for a new generation removes every older one. Answers
to a query string (searches) are never kept here, only pages.

The shelf is a cache and never the reason a request fails: a file that is
not a database (a torn write on a bad card) is replaced by an empty one, a
full disk or a busy file skips the write, and a folder where nothing can be
written means no shelf. Its size is bounded by PAGE_SHELF_MB: past it, the
oldest pages go first. SQLite's write-ahead log makes each page's write
whole or absent when the power goes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path

from app.web.headers import Headers

log = logging.getLogger(__name__)

# The layout of the file: another value (an older Waypost's file) is emptied and laid out again.
LAYOUT = 2
# How long a write waits for another process holding the file (two servers on one instance folder).
BUSY_SECONDS = 0.2
# Past the bound, pages are removed until the shelf holds at most this share of it.
LOW_WATER = 0.75
# The largest page kept, as a share of the bound: one topic's pack, not a tenth of the shelf.
LARGEST_SHARE = 16

SCHEMA = """
CREATE TABLE page (
    id INTEGER PRIMARY KEY,
    generation TEXT NOT NULL,
    path TEXT NOT NULL,
    headers TEXT NOT NULL,
    etags TEXT NOT NULL,
    br BLOB,
    gzip BLOB,
    plain BLOB,
    size INTEGER NOT NULL,
    UNIQUE (generation, path)
);
"""

# The encodings a page is kept in, in the order of the columns br, gzip and plain.
ENCODINGS = ("br", "gzip", "")


class Shelf:
    """The kept pages of one instance folder, for every thread of the server."""

    def __init__(self, path: Path, limit_bytes: int) -> None:
        self.path = path
        self.limit = limit_bytes
        self.lock = threading.Lock()
        self.conn: sqlite3.Connection | None = None
        self.opened = False
        self.bytes = 0
        # The generation whose first write removed the others (once a process and a generation).
        self.current = ""

    def get(self, generation: str, path: str) -> tuple[Headers, dict[str, bytes], dict[str, str]] | None:
        """Return a kept page's headers, bodies by encoding and ETags by encoding, or None."""
        with self.lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT headers, etags, br, gzip, plain FROM page WHERE generation = ? AND path = ?",
                    (generation, path),
                ).fetchone()
            except sqlite3.Error as exc:
                self._failed("read", exc)
                return None
        if row is None:
            return None
        try:
            headers = [(str(k), str(v)) for k, v in json.loads(row[0])]
            etags = {str(k): str(v) for k, v in json.loads(row[1]).items()}
            bodies = {e: bytes(b) for e, b in zip(ENCODINGS, row[2:], strict=True) if b is not None}
        except (ValueError, TypeError) as exc:
            log.warning("%s: a kept page of %s cannot be read (%s): it is rendered again", self.path, path, exc)
            return None
        if not bodies or set(bodies) - set(etags):
            return None
        return headers, bodies, etags

    def put(
        self, generation: str, path: str, headers: Headers, bodies: dict[str, bytes], etags: dict[str, str]
    ) -> None:
        """Keep a page, removing every page of another generation first, and the oldest past the bound."""
        size = sum(len(b) for b in bodies.values())
        if size > self.limit // LARGEST_SHARE or set(bodies) - set(ENCODINGS):
            return
        blobs = [bodies.get(e) for e in ENCODINGS]
        with self.lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                with conn:
                    if generation != self.current:
                        conn.execute("DELETE FROM page WHERE generation != ?", (generation,))
                    conn.execute(
                        "INSERT OR REPLACE INTO page (generation, path, headers, etags, br, gzip, plain, size)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (generation, path, json.dumps(headers), json.dumps(etags), *blobs, size),
                    )
                    if generation != self.current or self.bytes + size > self.limit:
                        self.bytes = int(conn.execute("SELECT total(size) FROM page").fetchone()[0])
                    else:
                        self.bytes += size
                    if self.bytes > self.limit:
                        self._evict(conn)
                self.current = generation
            except sqlite3.Error as exc:
                self._failed("write", exc)

    def _evict(self, conn: sqlite3.Connection) -> None:
        """Remove the oldest pages until the shelf holds at most LOW_WATER of its bound."""
        excess, last = self.bytes - int(self.limit * LOW_WATER), None
        for page_id, size in conn.execute("SELECT id, size FROM page ORDER BY id"):
            excess, last = excess - size, page_id
            if excess <= 0:
                break
        if last is not None:
            conn.execute("DELETE FROM page WHERE id <= ?", (last,))
        self.bytes = int(conn.execute("SELECT total(size) FROM page").fetchone()[0])

    def _connection(self) -> sqlite3.Connection | None:
        """Return the open file, opening (or replacing a broken one) on first use; None when there can be none."""
        if self.opened:
            return self.conn
        self.opened = True
        for attempt in (1, 2):
            try:
                self.conn = self._open()
                return self.conn
            except sqlite3.OperationalError as exc:
                # A folder nothing can be written in (read-only media), or a file another process
                # holds: this run keeps pages in memory only, and the file is left as it is.
                log.warning("%s: no shelf for pages (%s): pages are kept in memory only", self.path, exc)
                return None
            except sqlite3.DatabaseError as exc:
                if attempt == 2:
                    log.warning("%s: no shelf for pages (%s): pages are kept in memory only", self.path, exc)
                    return None
                log.warning("%s: not a readable shelf (%s): starting an empty one", self.path, exc)
                _remove(self.path)
            except OSError as exc:
                log.warning("%s: no shelf for pages (%s): pages are kept in memory only", self.path, exc)
                return None
        return None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if conn.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
                with conn:
                    conn.execute("DROP TABLE IF EXISTS page")
                    conn.execute(SCHEMA)
                    conn.execute(f"PRAGMA user_version = {LAYOUT}")
            conn.execute("SELECT count(*) FROM page").fetchone()  # a torn file fails here, not on a request
            self.bytes = int(conn.execute("SELECT total(size) FROM page").fetchone()[0])
        except BaseException:
            conn.close()
            raise
        # The connection is shared by the server's threads, one at a time (the lock): its own default is 2 MB.
        conn.execute("PRAGMA cache_size = -256")
        return conn

    def _failed(self, what: str, exc: sqlite3.Error) -> None:
        """Note a read or write that failed; a file that is not a database any more is replaced at the next use."""
        if isinstance(exc, sqlite3.OperationalError):
            log.info("%s: %s skipped (%s)", self.path, what, exc)  # busy or full: the page is rendered instead
            return
        log.warning("%s: %s failed (%s): starting an empty shelf", self.path, what, exc)
        if self.conn is not None:
            self.conn.close()
        self.conn, self.opened, self.current = None, False, ""
        _remove(self.path)


def _remove(path: Path) -> None:
    """Remove a shelf's file and its write-ahead log, as far as they can be."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("%s: cannot be removed (%s)", leftover, exc)
