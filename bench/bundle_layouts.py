"""Benchmark helper: what each way of storing articles' HTML costs in bytes and in reading one article.

Run by bench/bundle_scale.py inside the measured tree (PYTHONPATH), on a bundle it built:

    python bench/bundle_layouts.py BUNDLE [--transmitted]

For every layout it prints the bytes the HTML takes, the CPU time to compress
it all, and the CPU time to read one article back as the server does, mean
and p95 over a fixed sample of articles: for brotli a fresh decompressor
inflating its dictionary, then its block; for zstandard its block inflated
with the dictionary the server loaded once for the bundle.
Sizes are exact; times are CPU time of this process (the machine is shared).
With --transmitted it also prints what a kiosk downloads on its first sync
from a hub: every object brotli-compressed at quality 11, as `waypost publish`
writes them (no index: the kiosk derives it).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass
from typing import Any

import brotli

from app.bundle.schema import logical_rows


@dataclass(frozen=True)
class Layout:
    name: str
    block: int  # bytes of HTML a block; 0 = one article a row
    dictionary: int  # bytes of a language's first HTML every block follows; 0 = none
    quality: int  # brotli's quality, or zstandard's level
    codec: str = "brotli"


LAYOUTS = (
    Layout("per row, brotli 5 (the format before)", 0, 0, 5),
    Layout("blocks 32 KB, brotli 8", 32 * 1024, 0, 8),
    Layout("blocks 96 KB, brotli 8", 96 * 1024, 0, 8),
    Layout("blocks 128 KB, brotli 9", 128 * 1024, 0, 9),
    Layout("blocks 256 KB, brotli 9", 256 * 1024, 0, 9),
    Layout("blocks 96 KB + 64 KB dictionary, brotli 9 (format 4)", 96 * 1024, 64 * 1024, 9),
    Layout("blocks 96 KB + 64 KB dictionary, zstd 12 (this format)", 96 * 1024, 64 * 1024, 12, "zstd"),
    Layout("blocks 96 KB + 64 KB dictionary, zstd 15", 96 * 1024, 64 * 1024, 15, "zstd"),
    Layout("blocks 96 KB + 64 KB dictionary, zstd 19", 96 * 1024, 64 * 1024, 19, "zstd"),
    Layout("blocks 192 KB + 64 KB dictionary, zstd 12", 192 * 1024, 64 * 1024, 12, "zstd"),
    Layout("blocks 96 KB + 64 KB dictionary, brotli 8", 96 * 1024, 64 * 1024, 8),
    Layout("blocks 64 KB + 128 KB dictionary, brotli 8", 64 * 1024, 128 * 1024, 8),
    Layout("blocks 96 KB + 16 KB dictionary, brotli 8", 96 * 1024, 16 * 1024, 8),
    Layout("blocks 96 KB + 32 KB dictionary, brotli 8", 96 * 1024, 32 * 1024, 8),
    Layout("blocks 64 KB + 32 KB dictionary, brotli 8", 64 * 1024, 32 * 1024, 8),
    Layout("blocks 48 KB + 48 KB dictionary, brotli 8", 48 * 1024, 48 * 1024, 8),
)


def _blocks(articles: list[tuple[str, bytes]], size: int) -> list[tuple[str, list[int]]]:
    """Return (language, article indexes) per block, cut as app/bundle/blocks.py cuts them."""
    found: list[tuple[str, list[int]]] = []
    length = 0
    for i, (lang, html) in enumerate(articles):
        if not found or found[-1][0] != lang or (size and length + len(html) > size) or not size:
            found.append((lang, []))
            length = 0
        found[-1][1].append(i)
        length += len(html)
    return found


def measure(articles: list[tuple[str, bytes]], layout: Layout, sample: list[int]) -> tuple[int, float, float, float]:
    """Return (stored bytes, compress CPU s, read ms mean, read ms p95) for one layout."""
    if layout.codec == "zstd":
        return measure_zstd(articles, layout, sample)
    started = time.process_time()
    dictionaries: dict[str, tuple[bytes, bytes]] = {}
    if layout.dictionary:
        for lang in dict.fromkeys(lang for lang, _html in articles):
            raw = b"".join(html for code, html in articles if code == lang)[: layout.dictionary]
            compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=layout.quality)
            dictionaries[lang] = (raw, compressor.process(raw) + compressor.flush())
    stored, block_of = [], {}
    for number, (lang, members) in enumerate(_blocks(articles, layout.block)):
        raw = b"".join(articles[i][1] for i in members)
        compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=layout.quality)
        if layout.dictionary:
            compressor.process(dictionaries[lang][0])
            compressor.flush()
        stored.append((lang, compressor.process(raw) + compressor.finish()))
        block_of.update(dict.fromkeys(members, number))
    seconds = time.process_time() - started
    reads = []
    for i in sample:
        lang, data = stored[block_of[i]]
        started = time.process_time()
        decompressor = brotli.Decompressor()
        if layout.dictionary:
            _drain(decompressor, dictionaries[lang][1])
        _drain(decompressor, data)
        reads.append((time.process_time() - started) * 1000)
    reads.sort()
    size = sum(len(data) for _lang, data in stored) + sum(len(head) for _raw, head in dictionaries.values())
    return size, seconds, statistics.fmean(reads), reads[int(0.95 * (len(reads) - 1))]


def measure_zstd(
    articles: list[tuple[str, bytes]], layout: Layout, sample: list[int]
) -> tuple[int, float, float, float]:
    """measure() for zstandard: each block compressed with its language's raw dictionary, digested once."""
    zstd = _zstd()
    started = time.process_time()
    dictionaries: dict[str, tuple[bytes, bytes]] = {}
    for lang in dict.fromkeys(lang for lang, _html in articles):
        raw = b"".join(html for code, html in articles if code == lang)[: layout.dictionary]
        dictionaries[lang] = (raw, zstd.compress(raw, level=19))
    digested = {lang: zstd.ZstdDict(raw, is_raw=True).as_digested_dict for lang, (raw, _head) in dictionaries.items()}
    stored, block_of = [], {}
    for number, (lang, members) in enumerate(_blocks(articles, layout.block)):
        raw = b"".join(articles[i][1] for i in members)
        stored.append((lang, zstd.compress(raw, level=layout.quality, zstd_dict=digested[lang])))
        block_of.update(dict.fromkeys(members, number))
    seconds = time.process_time() - started
    # A reader loads a language's dictionary once per bundle file (blocks.DICTIONARIES), as brotli cannot:
    # a read is its block inflated with the dictionary loaded.
    loaded = {lang: zstd.ZstdDict(zstd.decompress(head), is_raw=True) for lang, (_raw, head) in dictionaries.items()}
    for lang, (raw, _head) in dictionaries.items():
        zstd.decompress(zstd.compress(raw[:64], level=1), zstd_dict=loaded[lang])  # digested for inflating
    reads = []
    for i in sample:
        lang, data = stored[block_of[i]]
        started = time.process_time()
        zstd.decompress(data, zstd_dict=loaded[lang])
        reads.append((time.process_time() - started) * 1000)
    reads.sort()
    size = sum(len(data) for _lang, data in stored) + sum(len(head) for _raw, head in dictionaries.values())
    return size, seconds, statistics.fmean(reads), reads[int(0.95 * (len(reads) - 1))]


def _zstd() -> Any:
    import sys

    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    return zstd


def _drain(decompressor: brotli.Decompressor, data: bytes) -> None:
    while decompressor.process(data, output_buffer_limit=1 << 24) and not decompressor.is_finished():
        data = b""


def _has_zstd() -> bool:
    try:
        _zstd()
    except ImportError:
        return False
    return True


def transmitted(conn: sqlite3.Connection) -> tuple[int, int]:
    """Return (objects, bytes) a first sync downloads: each hub object brotli 11, as `waypost publish` writes."""
    from app.distribution.objects import pieces

    found = pieces(conn)
    return len(found), sum(len(brotli.compress(piece.raw, quality=11)) for piece in found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("--transmitted", action="store_true")
    parser.add_argument("--no-layouts", action="store_true")
    args = parser.parse_args()
    from app.bundle import read

    conn = read.connect(args.bundle)
    articles = [(row["lang"], row["html"].encode("utf-8")) for row in logical_rows(conn, "articles", "id")]
    sample = sorted(random.Random(13).sample(range(len(articles)), min(300, len(articles))))
    raw = sum(len(html) for _lang, html in articles)
    if not args.no_layouts:
        print(f"  HTML of {len(articles)} articles: {raw / 1e6:.2f} MB uncompressed; CPU, one process:")
    for layout in () if args.no_layouts else LAYOUTS:
        if layout.codec == "zstd" and not _has_zstd():
            print(f"    {layout.name:<60} (no zstandard in this tree's environment)", flush=True)
            continue
        size, seconds, mean, p95 = measure(articles, layout, sample)
        print(
            f"    {layout.name:<60} {size / 1e6:7.2f} MB  compress {seconds:5.1f} s  "
            f"read one article {mean:5.2f} ms mean, {p95:5.2f} p95",
            flush=True,
        )
    if args.transmitted:
        count, size = transmitted(conn)
        print(f"  a first sync downloads {count} objects, {size / 1e6:.2f} MB (brotli 11 each; no index)", flush=True)


if __name__ == "__main__":
    main()
