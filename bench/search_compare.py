"""Benchmark: article search in two or more checkouts on one bundle, interleaved, for a fair before/after.

bundle_scale.py builds a bundle for each checkout it measures, minutes apart,
so on a shared machine the two searches run under different loads. This runs
the same search child (bundle_scale.SEARCH_CHILD: a common, a mid, a rare word
and a two-letter prefix in en and ar) for each tree in turn on one bundle,
round after round, and prints each round with the load average. The trees
must read the bundle's format (check SCHEMA_VERSION); keep one with
`bundle_scale.py --keep`.

--replay N also replays N distinct queries a language (drawn by word frequency, en and ar in
turn) in each tree, with the store of inflated blocks at 0, 2, 4 and 8 MB: how often an article
read finds its block kept, and the CPU time of a query (a tree without the store: once, none kept).

Usage: python bench/search_compare.py --bundle /tmp/w/bench10000-perf-search.bundle
           --content /tmp/w/content10000 --trees /work/main,. [--rounds 2] [--budget 2] [--replay 150]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bundle_scale import SEARCH_CHILD, WORD, _git_head, load_average, pick_words, print_search, run_child

# Run inside the measured tree: distinct queries one after the other, as a server meets them, with the
# store of inflated blocks (blocks.INFLATED) at each size: how often a read finds its block kept, and
# what a query costs then.
REPLAY_CHILD = r"""
import json, sys, time
from app.bundle import blocks, read

bundle, queries, sizes = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
conn = read.connect(bundle)
source = read.meta(conn)["source_language"]
kept = getattr(blocks, "INFLATED", None)
for size in sizes if kept is not None else [0]:
    if kept is not None:
        kept.clear()
        kept.max_bytes, kept.found, kept.missed = size, 0, 0
    cpu = time.process_time()
    for lang, query in queries:
        read.search(conn, lang, source, query, 10)
    cpu = (time.process_time() - cpu) * 1000 / len(queries)
    looks = (kept.found + kept.missed) if kept is not None else 0
    print(json.dumps({"mb": size / 2**20, "found": kept.found / looks if looks else 0.0, "cpu": cpu}))
"""


def replay_queries(content: Path, count: int) -> list[tuple[str, str]]:
    """Return count distinct (lang, word) queries, en and ar in turn, drawn by how many articles hold each word."""
    import collections
    import random

    drawn: list[tuple[str, str]] = []
    for lang in ("en", "ar"):
        df: collections.Counter[str] = collections.Counter()
        for f in sorted((content / "articles" / lang).glob("*.md"))[:400]:
            body = f.read_text(encoding="utf-8").split("\n---\n", 1)[-1].casefold()
            df.update({w for w in WORD.findall(body) if not w.isdigit() and len(w) > 2})
        vocab = sorted(df)
        words = dict.fromkeys(random.Random(1).choices(vocab, weights=[df[w] for w in vocab], k=count * 3))
        drawn += [(lang, w) for w in list(words)[:count]]
    # Interleaved, as readers of both languages search one server.
    return [q for pair in zip(drawn[:count], drawn[count:], strict=True) for q in pair]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--content", type=Path, required=True, help="the bundle's content folder (picks the words)")
    parser.add_argument("--trees", default=f"/work/main,{Path(__file__).resolve().parent.parent}")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timing per case (at least 3 calls)")
    parser.add_argument("--replay", type=int, default=0, help="also replay this many distinct queries a language")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",") if t]
    words = {lang: {**kinds, "short": kinds["common"][:2]} for lang, kinds in pick_words(args.content).items()}
    for number in range(1, args.rounds + 1):
        for tree in trees:
            print(f"round {number}: tree {tree} (git {_git_head(tree)}); load average {load_average()}", flush=True)
            lines = run_child(tree, SEARCH_CHILD, str(args.bundle.resolve()), json.dumps(words), str(args.budget))
            print_search(lines.splitlines())
    if args.replay:
        queries = replay_queries(args.content, args.replay)
        sizes = [0, 2 * 2**20, 4 * 2**20, 8 * 2**20]
        for tree in trees:
            print(f"replay of {len(queries)} distinct queries, 10 a page: tree {tree}; load average {load_average()}")
            out = run_child(tree, REPLAY_CHILD, str(args.bundle.resolve()), json.dumps(queries), json.dumps(sizes))
            for raw in out.splitlines():
                r = json.loads(raw)
                print(
                    f"  blocks kept {r['mb']:3.0f} MB: reads finding theirs {r['found']:4.0%}, "
                    f"cpu {r['cpu']:5.1f} ms a query"
                )


if __name__ == "__main__":
    main()
