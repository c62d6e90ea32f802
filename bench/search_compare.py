"""Benchmark: article search in two or more checkouts on one bundle, interleaved, for a fair before/after.

bundle_scale.py builds a bundle for each checkout it measures, minutes apart,
so on a shared machine the two searches run under different loads. This runs
the same search child (bundle_scale.SEARCH_CHILD: a common, a mid, a rare word
and a two-letter prefix in en and ar) for each tree in turn on one bundle,
round after round, and prints each round with the load average. The trees
must read the bundle's format (check SCHEMA_VERSION); keep one with
`bundle_scale.py --keep`.

Usage: python bench/search_compare.py --bundle /tmp/w/bench10000-perf-search.bundle
           --content /tmp/w/content10000 --trees /work/main,. [--rounds 2] [--budget 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bundle_scale import SEARCH_CHILD, _git_head, load_average, pick_words, print_search, run_child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--content", type=Path, required=True, help="the bundle's content folder (picks the words)")
    parser.add_argument("--trees", default=f"/work/main,{Path(__file__).resolve().parent.parent}")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timing per case (at least 3 calls)")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",") if t]
    words = {lang: {**kinds, "short": kinds["common"][:2]} for lang, kinds in pick_words(args.content).items()}
    for number in range(1, args.rounds + 1):
        for tree in trees:
            print(f"round {number}: tree {tree} (git {_git_head(tree)}); load average {load_average()}", flush=True)
            lines = run_child(tree, SEARCH_CHILD, str(args.bundle.resolve()), json.dumps(words), str(args.budget))
            print_search(lines.splitlines())


if __name__ == "__main__":
    main()
