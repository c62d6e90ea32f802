"""The live bundle as the server sees it: one read-only connection a thread, facts read once a bundle.

A bundle is replaced by renaming a new file over the live path, never
changed in place. So the server looks at the path (one `stat`) at most once
every SWAP_CHECK_SECONDS, for all threads together, and so at the kiosk-state
file beside it: while the file is the same, each thread keeps its open
connection and the bundle's metadata and languages are the ones read when it
was first opened. When the file changes, each thread opens the new one, and
everything keyed by the bundle's content digest (pages, pack sizes) is
computed again for it. Until the next look, requests are answered from the
bundle they were answered from before: a swap is seen late by at most that
interval, and no request fails meanwhile (the old file stays readable through
the connections that hold it open).

Why not a `stat` for every request: it releases the GIL, and under load a
thread that releases it waits behind the others to take it back. Measured on
2 cores, one `stat` a request tripled a cached answer's time in the app
(bench/vs_kiwix.py --floor shows the remaining difference).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.bundle import read as bundle
from app.kiosk_state import state_path
from app.web.freshness import stamp as freshness_stamp

# Where the request's bundle is kept for the whole request, once the response cache has looked.
ENVIRON_KEY = "waypost.live"
# SQLite's page cache per connection, in KiB (its default is 2 MB): the OS caches the file for all threads.
PAGE_CACHE_KIB = 256


@dataclass(frozen=True)
class Live:
    """One open bundle as one thread reads it, with the facts every page needs."""

    identity: tuple[int, ...]
    conn: sqlite3.Connection
    digest: str
    meta: dict[str, str]
    languages: list[dict[str, str]]
    # Values derived from this bundle alone (pack sizes, joined URLs), dropped with it.
    derived: dict[Any, Any] = field(default_factory=dict, compare=False)

    @property
    def source_language(self) -> str:
        return self.meta["source_language"]


class Watch:
    """A file's identity, looked at no more often than once an interval (0: at every call)."""

    def __init__(self, path: str | os.PathLike[str], interval: float) -> None:
        self.path = path
        self.interval = interval
        self.checked = -float("inf")
        self.identity: tuple[int, ...] = ()

    def __call__(self) -> tuple[int, ...]:
        now = time.monotonic()
        if now - self.checked >= self.interval:
            # Two threads may both look at once: each writes what it saw, the same file.
            self.identity = file_identity(self.path)
            self.checked = now
        return self.identity


class Store:
    """Hand each thread a connection to the live bundle, replaced when the file is."""

    def __init__(self, path: str, check_seconds: float = 0.0) -> None:
        self.path = path
        self.watch = Watch(path, check_seconds)
        self.live_path = Path(path)
        self.state_watch = Watch(state_path(self.live_path), check_seconds)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Facts of the bundles seen, by digest: the same bundle in every thread shares one copy.
        self._by_digest: dict[str, tuple[dict[str, str], list[dict[str, str]], dict]] = {}

    def current(self) -> Live:
        """Return this thread's view of the live bundle, reopening it when the file changed.

        Raises BundleError when there is no usable bundle.
        """
        identity = self.watch()
        live: Live | None = getattr(self._local, "live", None)
        if live is not None and live.identity == identity:
            return live
        if live is not None:
            live.conn.close()
            self._local.live = None
        conn = bundle.connect(self.path)
        # Every thread keeps its connection: a small page cache each keeps the whole within bounds.
        conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        try:
            meta, languages, derived = self._facts(conn)
        except Exception:
            conn.close()
            raise
        live = Live(identity, conn, meta.get("content_digest", ""), meta, languages, derived)
        self._local.live = live
        return live

    def stamp(self) -> tuple:
        """Return the freshness stamp of the live bundle (freshness.stamp), its kiosk state looked at by the watch."""
        return freshness_stamp(self.live_path, self.state_watch())

    def _facts(self, conn: sqlite3.Connection) -> tuple[dict[str, str], list[dict[str, str]], dict]:
        meta = bundle.meta(conn)
        digest = meta.get("content_digest", "")
        with self._lock:
            if digest not in self._by_digest:
                # Only the bundles threads hold now are kept: an old one's facts go with it.
                self._by_digest = {k: v for k, v in self._by_digest.items() if k == digest}
                self._by_digest[digest] = (meta, bundle.languages(conn), {})
            return self._by_digest[digest]


def file_identity(path: str | os.PathLike[str]) -> tuple[int, ...]:
    """Return what changes when a file is replaced by a rename (or rewritten); () when it is gone."""
    return bundle.file_identity(path) or ()
