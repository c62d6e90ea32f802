"""Article HTML stored in compressed blocks, as a ZIM stores its articles in clusters.

Consecutive articles of one language (in row order) are joined and
compressed together with zstandard, up to BLOCK_BYTES of HTML a block: the
articles of a block share their vocabulary and markup, so a block is much
smaller than its articles compressed one by one. An article row keeps where
its HTML lies in its block's uncompressed bytes (`block`, `start`, `size`).

Each language has a dictionary, the first DICTIONARY_BYTES of its articles'
HTML, stored once (`article_dictionaries`), and each of its blocks is
compressed with it (a zstandard raw-content dictionary): even a block's first
article can refer to the words and markup the language's articles share.
A reader loads a dictionary once per bundle file and inflates a block with it
directly.

The blocks are storage, not content: the digest, the objects a hub
publishes and everything a reader is shown see an article's HTML
(schema.logical_rows), so one changed article is still one changed object,
and a kiosk assembling synced rows writes the same blocks (build.write_bundle).

Why zstandard at level BLOCK_LEVEL (bundle format 5). Format 4 was brotli 9,
each block continuing a stream that had compressed the dictionary first,
since no brotli binding takes a dictionary: every block paid to compress
the dictionary again, and every read to inflate it again. Measured on a
quarter of the 1,138 blocks of the 10,000-article bench corpus (26.6 MB of
HTML), one process; a block is compressed with its dictionary digested once:

| blocks | stored | compress a block | inflate a block |
|---|---|---|---|
| brotli 9 after its dictionary (format 4) | 7.01 MB | 30.6 ms (19.8 the dictionary) | 0.70 ms (0.21 the dictionary) |
| zstandard 12 (this) | 7.00 MB | 14.8 ms | 0.18 ms |
| zstandard 15 | 6.59 MB | 26.6 ms | 0.18 ms |
| zstandard 19 | 6.54 MB | 46.1 ms | 0.25 ms |

The whole 10,000-article build took 56 s at level 12 and 64 s at level 15
(38.99 and 37.59 MB; brotli 9: 67 s, 39.07 MB): level 12 keeps the size
and makes the build faster; level 15 would make bundles 4 % smaller and
give that time back.

A search shows ten snippets, each read from a block, so inflating is what a
search pays per result. A zstandard block is inflated whole: its frame is
one zstandard block of up to 128 KB, which the library decodes in one piece
whatever is asked. Blocks compress in worker processes (app/parallel.py),
the same bytes as in one.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

BLOCK_BYTES = 96 * 1024
# A language's dictionary: the first DICTIONARY_BYTES of its articles' HTML.
DICTIONARY_BYTES = 64 * 1024
BLOCK_LEVEL = 12
# A dictionary is compressed once a language: the slowest level costs nothing that matters.
DICTIONARY_LEVEL = 19
# No block (or dictionary) inflates to more than this: a damaged or hostile one cannot make a reader
# inflate more (an article larger than BLOCK_BYTES has a block of its own).
MAX_BLOCK_RAW = 64 * 1024 * 1024


class BlockError(sqlite3.DatabaseError):
    """An article's block is damaged or does not hold its HTML: the bundle is corrupt."""


@functools.lru_cache(maxsize=8)
def _compressing(dictionary: bytes) -> Any:
    """Return a dictionary ready to compress with: digested once per worker for all its language's blocks."""
    return zstd.ZstdDict(dictionary, is_raw=True).as_digested_dict


def compress_dictionary(dictionary: bytes) -> bytes:
    """Return a language's dictionary as stored: one zstandard frame of it."""
    return zstd.compress(dictionary, level=DICTIONARY_LEVEL)


def compress_block(raw: bytes, dictionary: bytes) -> bytes:
    """Return a block's bytes as stored: one zstandard frame, compressed with its language's dictionary."""
    return zstd.compress(raw, level=BLOCK_LEVEL, zstd_dict=_compressing(dictionary))


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
    """A small least-recently-used store of inflated blocks, bounded in bytes.

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

    def get(self, key: Hashable) -> bytes | None:
        """Return the block kept for key (and keep it longest), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
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


# 4 MB of inflated HTML, about 40 blocks. Replaying 300 distinct queries drawn by word frequency, en and
# ar in turn, on the 10,000-article bench corpus (bench/search_compare.py --replay 150): 20 % of the
# article reads of their first pages found their block kept by the queries before, which saved 22 % of
# a query's CPU when blocks were brotli (format 4); a zstandard block inflates in a quarter of the time,
# so it saves less now. It costs its size in memory once searches have filled it; small content sets fit whole.
INFLATED = InflatedBlocks(4 * 1024 * 1024)


class BundleConnection(sqlite3.Connection):
    """A connection to a bundle file; `cache_key` names that file for INFLATED (None: share nothing)."""

    cache_key: Hashable | None = None


class BlockReader:
    """Read articles' HTML from a bundle's blocks, keeping the last block inflated for the next read.

    Reading rows in block order (as logical_rows does) inflates each block
    once. Every block read is inflated whole, so a block cut short, damaged or
    too large is refused even past the articles asked for. With shared (the
    server), what was inflated, and each language's dictionary, are kept for
    other connections to the same file (INFLATED, DICTIONARIES) when the
    connection names its file.
    """

    def __init__(self, conn: sqlite3.Connection, *, shared: bool = False) -> None:
        self.conn = conn
        self.file = getattr(conn, "cache_key", None) if shared else None
        self.block: int | None = None
        self.raw = b""
        # This reader's dictionaries, by number, when they cannot be shared.
        self._dictionaries: dict[int, Any] = {}

    def html(self, block: int, start: int, size: int) -> str:
        """Return the HTML an article row points at, or raise BlockError."""
        if not (isinstance(start, int) and isinstance(size, int) and 0 <= start and 0 <= size):
            raise BlockError(f"article block {block} has an article outside it")
        if block != self.block:
            self.block, self.raw = None, b""
            kept = INFLATED.get((self.file, block)) if self.file is not None else None
            self.raw = kept if kept is not None else self._inflate(block)
            self.block = block
        end = start + size
        if end > len(self.raw):
            raise BlockError(f"article block {block} is shorter than its articles")
        try:
            return self.raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise BlockError(f"article block {block} does not hold its articles' HTML") from None

    def _inflate(self, block: int) -> bytes:
        row = self.conn.execute("SELECT data, dictionary FROM article_blocks WHERE id = ?", (block,)).fetchone()
        if row is None or not isinstance(row[0], bytes) or not isinstance(row[1], int):
            raise BlockError(f"article block {block} or its dictionary is missing")
        raw = _inflated(row[0], self._dictionary(row[1]), f"article block {block}")
        if self.file is not None:
            INFLATED.put((self.file, block), raw)
        return raw

    def _dictionary(self, number: int) -> Any:
        """Return a language's dictionary, ready to inflate with, reading it once per file (or per reader)."""
        key = (self.file, number)
        found = DICTIONARIES.get(key) if self.file is not None else self._dictionaries.get(number)
        if found is None:
            row = self.conn.execute("SELECT data FROM article_dictionaries WHERE id = ?", (number,)).fetchone()
            if row is None or not isinstance(row[0], bytes):
                raise BlockError(f"article dictionary {number} is missing")
            found = zstd.ZstdDict(_inflated(row[0], None, f"article dictionary {number}"), is_raw=True)
            if self.file is not None:
                DICTIONARIES.put(key, found)
            else:
                self._dictionaries[number] = found
        return found


def _inflated(data: bytes, dictionary: Any, name: str) -> bytes:
    """Return one whole zstandard frame inflated, or raise BlockError: never more than MAX_BLOCK_RAW bytes."""
    try:
        decompressor = zstd.ZstdDecompressor(zstd_dict=dictionary)
        raw = decompressor.decompress(data, max_length=MAX_BLOCK_RAW + 1)
    except zstd.ZstdError:
        raise BlockError(f"{name} is damaged") from None
    if len(raw) > MAX_BLOCK_RAW:
        raise BlockError(f"{name} inflates past its bound")
    if not decompressor.eof or decompressor.unused_data:
        raise BlockError(f"{name} is cut short or has bytes after its end")
    return raw


class Dictionaries:
    """The dictionaries of the bundle files read lately, ready to inflate with: a few languages' each."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, dictionary: Any) -> None:
        with self._lock:
            self._entries[key] = dictionary
            while len(self._entries) > self.most:
                self._entries.popitem(last=False)


# Keyed like INFLATED (the file and the dictionary's number): a 64 KB dictionary and zstandard's tables
# for it, about 130 KB each, for two bundles of eight languages at most (the live one and the one before).
DICTIONARIES = Dictionaries(16)
