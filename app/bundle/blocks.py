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
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import brotli

from app import parallel

BLOCK_BYTES = 96 * 1024
# A language's dictionary: the first DICTIONARY_BYTES of its articles' HTML. Every block of the language
# is compressed as if it followed that text, so even a block's first article can refer to words
# and markup the language's articles share; the compressed dictionary is stored once a language.
DICTIONARY_BYTES = 64 * 1024
BLOCK_QUALITY = 9
# No block (or dictionary) inflates to more than this: a damaged or hostile one cannot make a reader
# inflate more (an article larger than BLOCK_BYTES has a block of its own).
MAX_BLOCK_RAW = 64 * 1024 * 1024


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


class BlockReader:
    """Read articles' HTML from a bundle's blocks, keeping the last block inflated for the next read.

    Reading rows in block order (as logical_rows does) inflates each block once.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.block: int | None = None
        self.raw = b""

    def html(self, block: int, start: int, size: int) -> str:
        """Return the HTML an article row points at, or raise BlockError."""
        if not (isinstance(start, int) and isinstance(size, int) and 0 <= start and 0 <= size):
            raise BlockError(f"article block {block} has an article outside it")
        if block != self.block:
            self.block, self.raw = None, b""
            self.raw, self.block = self._inflate(block), block
        if start + size > len(self.raw):
            raise BlockError(f"article block {block} is shorter than its articles")
        try:
            return self.raw[start : start + size].decode("utf-8")
        except UnicodeDecodeError:
            raise BlockError(f"article block {block} does not hold its articles' HTML") from None

    def _inflate(self, block: int) -> bytes:
        row = self.conn.execute(
            "SELECT b.data, d.data FROM article_blocks b LEFT JOIN article_dictionaries d ON d.id = b.dictionary"
            " WHERE b.id = ?",
            (block,),
        ).fetchone()
        if row is None or not isinstance(row[0], bytes) or not isinstance(row[1], bytes):
            raise BlockError(f"article block {block} or its dictionary is missing")
        decompressor = brotli.Decompressor()
        try:
            _stream(decompressor, row[1])  # the dictionary: the text the block's stream starts with
            raw = _stream(decompressor, row[0])
        except brotli.error:
            raise BlockError(f"article block {block} is damaged") from None
        if not decompressor.is_finished():
            raise BlockError(f"article block {block} is cut short")
        return raw


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
