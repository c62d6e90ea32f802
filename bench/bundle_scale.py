"""Benchmark: bundle build time, peak memory, size against a ZIM, and search latency at 500 and 10,000 articles.

Generates the synthetic en/ar/fr corpora with ../shared/bench/make_corpus.py
and to_waypost.py, builds each with `waypost build` in a child process (its
peak RSS comes from os.wait4), prints the bundle's size split into content
and full-text index (SQLite's dbstat), the ZIM of the same HTML built by
zimwriterfs when it is installed (with and without its full-text index), and
search p50/p95 for a common, a mid and a rare word in en and ar: direct calls
to `app.bundle.read.search` on an open connection, and GET /<lang>/search
through the Flask test client.

Targets (issue #13): search p95 <= 20 ms at 10,000 articles; bundle <= 1.0x the
ZIM; build of 10,000 articles <= 60 s with peak RSS <= 300 MB.

What is compared with the ZIM: the bundle file, content and full-text index
together, as a kiosk stores it and a USB stick carries it; the ZIM holds its
Xapian index too. A hub ships no index (a kiosk derives it from the synced
rows), so a first sync's download is printed beside it (bench/bundle_layouts.py,
up to --transmitted articles), as is every HTML layout compared, with its size
and its cost to read one article (--layouts).

The "flask" search columns go through the app's search page; the response cache
answers a repeated query, so they show what a repeat costs. "direct" is a search
itself: rank, read the shown articles (one page, SEARCH_RESULTS of the measured
tree), make their snippets, with no inflated block kept from a search before.
The trade-offs after it: 20 a page, and the page with its blocks kept.

Words: a common one (in every article of its language), a mid one (in ~5 %), a rare one (in 2-3),
and a two-letter prefix of the common one.

Usage: python bench/bundle_scale.py [--sizes 500,10000] [--work /tmp/waypost-bundle-scale]
       [--tree PATH]   measure the code in another checkout (e.g. main, for a before/after)
The corpora and ZIMs are cached in --work; bundles are rebuilt every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared" / "bench"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/bench")
WORD = re.compile(r"\w+")
LAYOUTS = HERE / "bundle_layouts.py"

# Run inside the measured tree: build nothing, just time searches on one bundle.
SEARCH_CHILD = r"""
import json, resource, statistics, sys, time
from app.bundle import blocks, read
from app.web import create_app

bundle, words, budget = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
conn = read.connect(bundle)
client = create_app({"TESTING": True, "BUNDLE": bundle}).test_client()
source = read.meta(conn)["source_language"]
per_page = client.application.config["SEARCH_RESULTS"]  # what one search page shows in the measured tree
kept = getattr(blocks, "INFLATED", None)  # inflated blocks kept between searches, in trees that keep them

def cold():
    # A new query finds none of its blocks kept: what the "direct" columns measure.
    if kept is not None:
        kept.clear()

def timed(call, before=None, least=3, most=30):
    # Wall time, and this process's CPU time: on a shared, loaded machine the second is the fairer one.
    times, cpu, start = [], [], time.perf_counter()
    while len(times) < most and (len(times) < least or time.perf_counter() - start < budget):
        if before is not None:
            before()
        t, c = time.perf_counter(), time.process_time()
        out = call()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    cpu.sort()
    at95 = min(len(times) - 1, int(round(0.95 * (len(times) - 1))))
    return [statistics.median(times), times[at95], len(times), statistics.median(cpu), cpu[at95]], out

for lang, kinds in words.items():
    for kind, word in kinds.items():
        direct, found = timed(lambda: read.search(conn, lang, source, word, per_page), cold)
        twenty, _ = timed(lambda: read.search(conn, lang, source, word, 20), cold)
        warm, _ = timed(lambda: read.search(conn, lang, source, word, per_page))
        flask, resp = timed(lambda: client.get(f"/{lang}/search", query_string={"q": word}))
        assert resp.status_code == 200, resp.status_code
        print(json.dumps({"lang": lang, "kind": kind, "word": word, "total": found["total"],
                          "shown": len(found["results"]), "direct": direct, "flask": flask,
                          "twenty": twenty, "warm": warm}))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rss": rss, "kept": kept.held / 1e6 if kept is not None else None}))
"""

BUILD_CHILD = r"""
import resource, sys, time
from app.content import load
from app.cli.commands import main

def load_content(*args, **kwargs):
    # The high-water mark once the content set is loaded: what holding it costs before building starts.
    loaded = original(*args, **kwargs)
    print("LOADED", time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
    return loaded

original, load.load_content = load.load_content, load_content
t = time.perf_counter()
try:
    main(["build", sys.argv[1], "-o", sys.argv[2]], standalone_mode=False)
finally:
    print("BUILD_SECONDS", time.perf_counter() - t, file=sys.stderr)
    # Worker processes' peak (the largest one's), which os.wait4 on this process does not count.
    print("WORKERS_PEAK", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def run_child(tree: Path, code: str, *args: str) -> str:
    """Run code in a child Python importing the tree's `app`; return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    found = subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True)
    if found.returncode != 0:
        sys.exit(f"child failed ({found.returncode}): {found.stderr[-2000:]}")
    return found.stdout


def build(tree: Path, content: Path, out: Path) -> tuple[float, int, float, int]:
    """Build content with the tree's `waypost build` in a child.

    Returns its seconds and peak RSS in MB, and the same two when load_content had returned.
    """
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD_CHILD, str(content), str(out)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"build failed: {err[-2000:]}")
    seconds = float(re.findall(r"BUILD_SECONDS (\S+)", err)[-1])
    loaded = re.findall(r"LOADED (\S+) (\d+)", err)[-1]
    workers = int(re.findall(r"WORKERS_PEAK (\d+)", err)[-1]) // 1024
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"  build CPU {cpu:.1f} s (user + system, worker processes included); largest worker's peak RSS "
        f"{workers} MB (shared pages counted in both), [load average {load_average()}]",
        flush=True,
    )
    return seconds, usage.ru_maxrss // 1024, float(loaded[0]), int(loaded[1]) // 1024


def corpus(work: Path, n: int) -> tuple[Path, Path]:
    html, content = work / f"html{n}", work / f"content{n}"
    if not (content / "topics.yaml").is_file():
        shutil.rmtree(html, ignore_errors=True)
        shutil.rmtree(content, ignore_errors=True)
        subprocess.run(
            [sys.executable, SHARED / "make_corpus.py", "--articles", str(n), "--out", html],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run([sys.executable, SHARED / "to_waypost.py", html, content], check=True, stderr=subprocess.DEVNULL)
    return html, content


def zim_sizes(work: Path, html: Path, n: int) -> dict[str, int] | None:
    """Return the ZIM's size with and without its full-text index, building (and caching) them."""
    if not shutil.which("zimwriterfs"):
        return None
    sizes = {}
    for name, extra in (("zim", []), ("zim_no_index", ["--withoutFTIndex"])):
        path = work / f"{name}{n}.zim"
        if not path.is_file():
            subprocess.run(
                ["zimwriterfs", *extra, "--welcome=index.html", "--illustration=illustration.png",
                 "--language=eng,ara,fra", "--title=Peer benchmark corpus", "--description=Synthetic corpus",
                 "--creator=peerbench", "--publisher=peerbench", "--name=peerbench_corpus", html, path],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900,
            )  # fmt: skip
        sizes[name] = path.stat().st_size
    return sizes


def size_split(bundle: Path) -> dict[str, int]:
    """Return the bundle's bytes: the full-text index (search tables), everything else, and the file.

    Every table whose name starts with `search` is index (`search`, `search_titles` and their FTS5
    shadow tables; before this format, `search` alone), whatever the measured tree calls them.
    """
    import sqlite3

    conn = sqlite3.connect(f"file:{bundle}?mode=ro", uri=True)
    try:
        pages = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    index = sum(size for name, size in pages if name.startswith("search"))
    blocks = sum(size for name, size in pages if name.startswith("article_") or name == "articles")
    total = bundle.stat().st_size
    return {"content": total - index, "articles": blocks, "index": index, "total": total}


FAIR = (
    "  compared: the bundle file (content + full-text index) with the ZIM file (content + its Xapian index):\n"
    "  both are what a kiosk stores and serves and what a USB stick carries. A hub ships no index: a\n"
    "  synced kiosk downloads the rows (objects) and derives the index, so it stores the same file."
)


def pick_words(content: Path) -> dict[str, dict[str, str]]:
    """Return a common, a mid and a rare word per language: in the most, ~5 % and 2-3 of its articles."""
    cached = content / "bench-words.json"
    if cached.is_file():
        return dict(json.loads(cached.read_text()))
    picked = {}
    for lang in ("en", "ar"):
        files = sorted((content / "articles" / lang).glob("*.md"))
        df: Counter[str] = Counter()
        for f in files:
            body = f.read_text(encoding="utf-8").split("\n---\n", 1)[-1].casefold()
            df.update({w for w in WORD.findall(body) if not w.isdigit() and len(w) > 2})
        ranked = df.most_common()

        def near(target: float, ranked: list[tuple[str, int]] = ranked) -> str:
            return min(ranked, key=lambda item: (abs(item[1] - target), item[0]))[0]

        picked[lang] = {"common": ranked[0][0], "mid": near(0.05 * len(files)), "rare": near(2.5)}
    cached.write_text(json.dumps(picked, ensure_ascii=False))
    return picked


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,10000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/waypost-bundle-scale"))
    parser.add_argument("--tree", type=Path, default=HERE.parent, help="checkout whose code is measured")
    parser.add_argument("--keep", action="store_true", help="keep the bundles built in --work")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of timing per case (at least 3 calls)")
    parser.add_argument("--layouts", default="500", help="sizes at which to compare HTML layouts (size, read cost)")
    parser.add_argument(
        "--transmitted", type=int, default=2000, help="print a first sync's download up to this many articles"
    )
    args = parser.parse_args()
    args.layouts = {int(n) for n in args.layouts.split(",") if n}
    work, tree = args.work.resolve(), args.tree.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"tree {tree} (git {_git_head(tree)}); load average {load_average()}")
    for n in (int(s) for s in args.sizes.split(",")):
        html, content = corpus(work, n)
        out = work / f"bench{n}-{tree.name}.bundle"
        load = load_average()
        seconds, rss, load_seconds, load_rss = build(tree, content, out)
        split = size_split(out)
        zim = zim_sizes(work, html, n)
        mb = {k: v / 1e6 for k, v in split.items()}
        line = f"{n} articles [load average {load}]: build {seconds:.1f} s, peak RSS {rss} MB "
        line += f"(when load_content returned: {load_seconds:.1f} s, {load_rss} MB); "
        line += f"bundle {mb['total']:.2f} MB = content {mb['content']:.2f} (articles {mb['articles']:.2f}) "
        line += f"+ index {mb['index']:.2f}"
        if zim:
            ratio = split["total"] / zim["zim"]
            line += f"; ZIM {zim['zim'] / 1e6:.2f} MB (without its index {zim['zim_no_index'] / 1e6:.2f})"
            line += f"; bundle/ZIM {ratio:.2f}x"
        else:
            line += "; zimwriterfs missing (issue's reference: ZIM 2.26 MB / 39.3 MB)"
        print(line, flush=True)
        print(FAIR, flush=True)
        if n in args.layouts or n <= args.transmitted:
            extra = ["--transmitted"] if n <= args.transmitted else []
            if n not in args.layouts:
                extra.append("--no-layouts")
            print(run_child(tree, LAYOUTS.read_text(), str(out), *extra), end="", flush=True)
        # A two-letter prefix as well: every query term is a prefix, and short ones are the slow case.
        words = {lang: {**kinds, "short": kinds["common"][:2]} for lang, kinds in pick_words(content).items()}
        lines = run_child(tree, SEARCH_CHILD, str(out), json.dumps(words), str(args.budget))
        print_search(lines.splitlines())
        if not args.keep:
            out.unlink(missing_ok=True)


def print_search(lines: list[str]) -> None:
    """Print the search child's figures: a search page as the tree shows it, then the trade-offs measured."""
    rows = [json.loads(raw) for raw in lines]
    memory = rows.pop()
    print(
        f"  search [load average {load_average()}], ms: lang kind word hits shown | "
        "direct wall p50 p95 (n) cpu p50 p95 | flask wall p50 p95 (n) cpu p50 p95"
    )
    for r in rows:
        d, f = r["direct"], r["flask"]
        print(
            f"  {r['lang']} {r['kind']:<6} {r['word']:<12} {r['total']:>6} {r['shown']:>3} | "
            f"{d[0]:7.1f} {d[1]:7.1f} ({d[2]}) {d[3]:6.1f} {d[4]:6.1f} | "
            f"{f[0]:7.1f} {f[1]:7.1f} ({f[2]}) {f[3]:6.1f} {f[4]:6.1f}",
            flush=True,
        )
    # "direct" starts each search with no block kept (a new query); "kept" repeats it with its blocks kept
    # from the one before (what a query sharing every block with an earlier one costs: the floor).
    print("  search trade-offs, cpu p50 / p95 ms: lang kind | 20 a page | as shown | as shown, blocks kept | per hit")
    for r in rows:
        t, d, w = r["twenty"], r["direct"], r["warm"]
        hit = d[3] / r["shown"] if r["shown"] else 0.0
        print(
            f"  {r['lang']} {r['kind']:<6} | {t[3]:6.1f} {t[4]:6.1f} | {d[3]:6.1f} {d[4]:6.1f} | "
            f"{w[3]:6.1f} {w[4]:6.1f} | {hit:5.2f}",
            flush=True,
        )
    kept = "no store of inflated blocks" if memory["kept"] is None else f"inflated blocks kept {memory['kept']:.1f} MB"
    print(f"  search child: peak RSS {memory['rss']:.0f} MB (bundle open, Flask app); {kept}", flush=True)


def _git_head(tree: Path) -> str:
    found = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or "?"


if __name__ == "__main__":
    main()
