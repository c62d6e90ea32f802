"""Article HTML stored in compressed blocks, as a ZIM stores its articles in clusters.

Consecutive articles of one language (in row order) are joined and
compressed together with brotli, up to BLOCK_BYTES of HTML a block: the
articles of a block share their vocabulary and markup, so a block is much
smaller than its articles compressed one by one. An article row keeps where
its HTML lies in its block's uncompressed bytes (`block`, `start`, `size`);
reading it decompresses its block only as far as its end.

The blocks are storage, not content: the digest, the objects a hub
publishes and everything a reader is shown see an article's HTML
(schema.logical_rows), so one changed article is still one changed object,
and a kiosk assembling synced rows writes the same blocks (build.write_bundle).

Measured with bench/bundle_scale.py (--layouts prints every choice; 500 and
10,000 synthetic en/ar/fr articles): per-row brotli 5, the format before,
was 1.93 MB of HTML at 500 articles and a 0.04 ms read; blocks of 128 KB at
quality 9 are about 25 % smaller at about 0.15 ms a read (mean), and
larger blocks gain little more while every read costs more.

Blocks compress in worker processes (app/parallel.py), the same bytes as
in one. Each block's compressor first compresses its language's dictionary
again (a brotli compressor cannot be copied): about half of a block's
compression time (13 of 24 ms for a block of the synthetic corpus). Only a
format change, or a brotli binding that copies a compressor, could save it.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import brotli

BLOCK_BYTES = 96 * 1024
# A language's dictionary: the first DICTIONARY_BYTES of its articles' HTML. Every block of the language
# is compressed as if it followed that text, so even a block's first article can refer to words
# and markup the language's articles share; the compressed dictionary is stored once a language.
DICTIONARY_BYTES = 64 * 1024
BLOCK_QUALITY = 9
# No block (or dictionary) inflates to more than this: a damaged or hostile one cannot make a reader
# inflate more (an article larger than BLOCK_BYTES has a block of its own).
MAX_BLOCK_RAW = 64 * 1024 * 1024
# What a partial read asks brotli for at a time (see _Inflating.upto).
STEP = 16 * 1024


class BlockError(sqlite3.DatabaseError):
    """An article's block is damaged or does not hold its HTML: the bundle is corrupt."""


def _primed(dictionary: bytes) -> tuple[Any, bytes]:
    """Return a compressor that has compressed the dictionary, and the bytes it wrote for it."""
    compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=BLOCK_QUALITY)
    return compressor, compressor.process(dictionary) + compressor.flush()


def compress_dictionary(dictionary: bytes) -> bytes:
    """Return a language's dictionary as stored: the start of a brotli stream, which every block continues."""
    return _primed(dictionary)[1]


def compress_block(raw: bytes, dictionary: bytes) -> bytes:
    """Return a block's bytes as stored: the rest of the stream its language's dictionary starts."""
    compressor, _head = _primed(dictionary)
    return compressor.process(raw) + compressor.finish()


Packed = tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any] | None]
# Fewer blocks than this compress here: starting worker processes would cost more than they save.
PARALLEL_LEAST = 16


def pack_articles(rows: Iterable[dict[str, Any]], block_bytes: int | None = None) -> Iterator[Packed]:
    """Yield (article rows as stored, their block row, a new dictionary row or None) a block at a time.

    Rows come in the order they are stored (row id). Each stored row is the
    logical row with `html` replaced by `block`, `start` and `size` (bytes of
    UTF-8). A run of articles of one language shares one dictionary (its
    first DICTIONARY_BYTES of HTML), so its blocks wait until that is known;
    a block closes before an article that would take it past block_bytes.
    Blocks compress in worker processes where there are many (app/parallel.py).
    """
    from app import parallel  # the builder's only: the server reads blocks without it

    # The rows and dictionary row of each block, in order, while its bytes are compressed.
    held: deque[tuple[list[dict[str, Any]], int, dict[str, Any] | None]] = deque()

    def jobs() -> Iterator[tuple[bytes, bytes]]:
        for rows_of_block, raw, dictionary, number, entry in _blocks(rows, block_bytes or BLOCK_BYTES):
            held.append((rows_of_block, number, entry))
            yield raw, dictionary

    compressed = parallel.ordered_map(_compress, parallel.no_state, (), jobs(), least=PARALLEL_LEAST)
    for block, data in enumerate(compressed, start=1):
        stored, number, entry = held.popleft()
        for row in stored:
            row["block"] = block
        yield stored, {"id": block, "dictionary": number, "data": data}, entry


def _compress(_state: None, job: tuple[bytes, bytes]) -> bytes:
    return compress_block(*job)


Block = tuple[list[dict[str, Any]], bytes, bytes, int, dict[str, Any] | None]


def _blocks(rows: Iterable[dict[str, Any]], block_bytes: int) -> Iterator[Block]:
    """Yield (stored rows, their HTML, its dictionary, the dictionary's number, a new dictionary row or None)."""
    for number, (_lang, run) in enumerate(itertools.groupby(rows, key=lambda row: row["lang"]), start=1):
        waiting: list[tuple[list[dict[str, Any]], bytes]] = []
        dictionary: bytes | None = None
        for cut in _cut(run, block_bytes):
            waiting.append(cut)
            if dictionary is None:
                dictionary = b"".join(raw for _held, raw in waiting)[:DICTIONARY_BYTES]
                if len(dictionary) < DICTIONARY_BYTES:
                    dictionary = None
                    continue
                yield from _with_dictionary(waiting, dictionary, number, new=True)
            else:
                yield from _with_dictionary(waiting, dictionary, number, new=False)
            waiting = []
        if waiting:  # a run shorter than a dictionary: its dictionary is all of it
            dictionary = b"".join(raw for _held, raw in waiting)
            yield from _with_dictionary(waiting, dictionary, number, new=True)


def _cut(rows: Iterable[dict[str, Any]], block_bytes: int) -> Iterator[tuple[list[dict[str, Any]], bytes]]:
    """Yield (stored rows, their HTML joined) for each block, block numbers still to be set."""
    held: list[dict[str, Any]] = []
    parts: list[bytes] = []
    length = 0
    for row in rows:
        html = str(row["html"]).encode("utf-8")
        if held and length + len(html) > block_bytes:
            yield held, b"".join(parts)
            held, parts, length = [], [], 0
        held.append({**{k: v for k, v in row.items() if k != "html"}, "block": 0, "start": length, "size": len(html)})
        parts.append(html)
        length += len(html)
    if held:
        yield held, b"".join(parts)


def _with_dictionary(
    waiting: list[tuple[list[dict[str, Any]], bytes]], dictionary: bytes, number: int, new: bool
) -> Iterator[Block]:
    head = compress_dictionary(dictionary) if new else b""
    for held, raw in waiting:
        yield held, raw, dictionary, number, ({"id": number, "data": head} if new else None)
        new = False


class InflatedBlocks:
    """A small least-recently-used store of inflated blocks (or their first bytes), bounded in bytes.

    One per process, shared by every thread. It is keyed by what identifies a
    bundle file and a block in it (BundleConnection.cache_key), never by block
    number alone, so a swapped-in bundle never reads a block of the one before.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.found = self.missed = 0  # looks that found a block kept or not, for bench/search_compare.py

    def get(self, key: Hashable, need: int = 0) -> bytes | None:
        """Return the bytes kept for key when there are at least need of them (and keep them longest), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or len(found) < need:
                self.missed += 1
                return None
            self._entries.move_to_end(key)
            self.found += 1
            return found

    def put(self, key: Hashable, raw: bytes) -> None:
        """Keep raw for key, dropping the least recently used blocks beyond the bound."""
        if len(raw) > self.max_bytes // 4:  # one huge article must not empty the store
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.held += len(raw) - (len(old) if old is not None else 0)
            self._entries[key] = raw
            while self.held > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self.held -= len(dropped)

    def clear(self) -> None:
        """Forget every block."""
        with self._lock:
            self._entries.clear()
            self.held = 0


# 4 MB of inflated HTML (about 40 whole blocks, more of the first bytes of blocks). Replaying 300 distinct
# queries drawn by word frequency, en and ar in turn, on the 10,000-article bench corpus
# (bench/search_compare.py --replay 150): 20 % of the article reads of their first pages found their
# block kept by the queries before, and a query cost 22 % less CPU (7 % and 9 % at 2 MB, 36 % and 38 %
# at 8 MB). It costs its size in memory once searches have filled it; small content sets fit whole.
INFLATED = InflatedBlocks(4 * 1024 * 1024)


class BundleConnection(sqlite3.Connection):
    """A connection to a bundle file; `cache_key` names that file for INFLATED (None: share nothing)."""

    cache_key: Hashable | None = None


class BlockReader:
    """Read articles' HTML from a bundle's blocks, keeping the last block inflated for the next read.

    Reading rows in block order (as logical_rows does) inflates each block once.
    With partial, a block is inflated only as far as the article read needs
    (a later article of the same block continues from there), and what was
    inflated is kept in INFLATED when the connection names its file. Without
    it (checking a bundle), every block is inflated to its end, so a block
    cut short or too large is refused even past its last article.
    """

    def __init__(self, conn: sqlite3.Connection, *, partial: bool = False) -> None:
        self.conn = conn
        self.partial = partial
        self.file = getattr(conn, "cache_key", None) if partial else None
        self.block: int | None = None
        self.raw = b""
        self._inflating: _Inflating | None = None

    def html(self, block: int, start: int, size: int) -> str:
        """Return the HTML an article row points at, or raise BlockError."""
        if not (isinstance(start, int) and isinstance(size, int) and 0 <= start and 0 <= size):
            raise BlockError(f"article block {block} has an article outside it")
        end = start + size
        if block != self.block:
            self.block, self.raw, self._inflating = None, b"", None
            kept = INFLATED.get((self.file, block), end) if self.file is not None else None
            self.raw, self.block = kept or b"", block
        if end > len(self.raw) or not self.raw:
            if self._inflating is None:
                self._inflating = _Inflating(self.conn, block)
            self.raw = self._inflating.upto(end if self.partial else None)
            if self.file is not None:
                INFLATED.put((self.file, block), self.raw)
        if end > len(self.raw):
            raise BlockError(f"article block {block} is shorter than its articles")
        try:
            return self.raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise BlockError(f"article block {block} does not hold its articles' HTML") from None


class _Inflating:
    """One block's brotli stream being inflated, its dictionary already read: as far as asked, then further."""

    def __init__(self, conn: sqlite3.Connection, block: int) -> None:
        row = conn.execute(
            "SELECT b.data, d.data FROM article_blocks b LEFT JOIN article_dictionaries d ON d.id = b.dictionary"
            " WHERE b.id = ?",
            (block,),
        ).fetchone()
        if row is None or not isinstance(row[0], bytes) or not isinstance(row[1], bytes):
            raise BlockError(f"article block {block} or its dictionary is missing")
        self.block = block
        self.decompressor = brotli.Decompressor()
        try:
            _stream(self.decompressor, row[1])  # the dictionary: the text the block's stream starts with
        except brotli.error:
            raise BlockError(f"article block {block} is damaged") from None
        self.pending: bytes = row[0]
        self.parts: list[bytes] = []
        self.have = 0

    def upto(self, end: int | None) -> bytes:
        """Return the block's bytes inflated so far, having inflated at least end of them (None: all)."""
        limit = MAX_BLOCK_RAW + 1
        try:
            while (end is None or self.have < end) and not self.decompressor.is_finished():
                # brotli fills a first output buffer of about 32 KB, then larger ones: asked for more
                # than that at once it gives most of the block, so a partial read asks for a little at a
                # time and gets about 32 KB a call.
                want = limit - self.have if end is None else min(limit - self.have, end - self.have, STEP)
                out = self.decompressor.process(self.pending, output_buffer_limit=want)
                self.pending = b""
                if not out:
                    raise BlockError(f"article block {self.block} is cut short")
                self.parts.append(out)
                self.have += len(out)
                if self.have > MAX_BLOCK_RAW:
                    raise BlockError("an article block inflates past its bound")
        except brotli.error:
            raise BlockError(f"article block {self.block} is damaged") from None
        if len(self.parts) > 1:
            self.parts = [b"".join(self.parts)]
        return self.parts[0] if self.parts else b""


def _stream(decompressor: Any, data: bytes) -> bytes:
    """Return all the output data gives, refusing more than MAX_BLOCK_RAW (a few bytes can inflate to gigabytes)."""
    parts: list[bytes] = []
    have = 0
    while True:
        out = decompressor.process(data, output_buffer_limit=MAX_BLOCK_RAW + 1 - have)
        data = b""
        if not out:
            return b"".join(parts)
        parts.append(out)
        have += len(out)
        if have > MAX_BLOCK_RAW:
            raise BlockError("an article block inflates past its bound")
        if decompressor.is_finished():
            return b"".join(parts)
