"""Waypost beside kiwix-serve and nginx on the same corpus, on this machine, in one run: every goal of issue #13.

    python bench/vs_kiwix.py [--quick] [--repeat 3] [--duration 10] [--waypost PATH/TO/waypost]

Builds the synthetic en/ar/fr corpus with ../shared/bench/make_corpus.py (500
articles, and 10,000 for search, size and build), a ZIM of it with zimwriterfs
(full-text index included) and a Waypost bundle with `waypost build` (timed,
peak RSS from wait4). Serves them on loopback: Waypost with `waypost serve`
(waitress), kiwix-serve from the ZIM, nginx from the HTML folder, and runs wrk
(-t2 -c50, gzip) against each, interleaved, REPEAT rounds, medians. Search is
timed request by request (each request carries a distinct ignored parameter, so
no response cache answers it). Prints one table with the 1-minute load average
beside each figure; the machine is shared, so figures are noisy. Every process
started is stopped by its PID. `--quick`: 90 articles, REPEAT 1, 3-second runs.
`--waypost` runs another checkout's `waypost` (a baseline), nothing else changes.
Needs: apt-get install -y kiwix-tools zim-tools nginx wrk
"""

from __future__ import annotations

import argparse
import collections
import html
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/bench")
HOST = "127.0.0.1"
PORTS = {"waypost": 18093, "kiwix": 18091, "nginx": 18092}
STARTED: list[subprocess.Popen] = []


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def run(cmd: list[str], **kw) -> tuple[float, int]:
    """Run a command to the end; return (seconds, peak RSS in MB) of that process alone."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        # A file, not a pipe: a build warns about every synthetic article, and a full pipe would stall it.
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, **kw)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode()[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss // 1024


def corpus(work: Path, articles: int) -> tuple[Path, Path, Path]:
    """Return the corpus folder, its Waypost content folder and its ZIM, made once per size."""
    root = work / f"corpus-{articles}"
    html_dir, content, zim = root / "html", root / "content", root / "corpus.zim"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        run([sys.executable, str(SHARED / "make_corpus.py"), "--out", str(html_dir), "--articles", str(articles)])
        run([sys.executable, str(SHARED / "to_waypost.py"), str(html_dir), str(content)])
        seconds, rss = run(
            [
                "zimwriterfs",
                "--welcome=index.html",
                "--illustration=illustration.png",
                "--language=eng,ara,fra",
                "--title=Peer benchmark corpus",
                "--description=Synthetic multilingual benchmark corpus",
                "--creator=peerbench",
                "--publisher=peerbench",
                "--name=peerbench_corpus",
                str(html_dir),
                str(zim),
            ]
        )
        (root / "zim-build").write_text(f"{seconds:.1f} {rss}")
        (root / "done").write_text("")
    return html_dir, content, zim


def build(waypost: str, content: Path, out: Path) -> tuple[float, int]:
    out.unlink(missing_ok=True)
    env = dict(os.environ, WAYPOST_INSTANCE_PATH=str(out.parent / "instance"))
    return run([waypost, "build", str(content), "--output", str(out)], env=env)


def bundle_split(path: Path) -> tuple[float, float]:
    """Return the bundle's MB of content and of full-text index (the `search*` tables)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return float("nan"), float("nan")
    finally:
        conn.close()
    index = sum(s for n, s in rows if n.startswith("search"))
    return (sum(s for _, s in rows) - index) / 1e6, index / 1e6


def wait_http(url: str, seconds: float) -> float:
    """Poll until url answers 200; return when it first did (perf_counter)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.005)
    raise SystemExit(f"{url} did not answer 200 in {seconds} s")


def start(cmd: list[str], url: str, env: dict | None = None) -> tuple[subprocess.Popen, float]:
    """Start a server; return it and the seconds to its first 200."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    STARTED.append(proc)
    return proc, wait_http(url, 60) - t0


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in STARTED:
        STARTED.remove(proc)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def nginx_conf(work: Path, html_dir: Path) -> Path:
    conf = work / "nginx" / "nginx.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    user = "user www-data;" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}
daemon off; master_process on; worker_processes 2; pid {conf.parent}/nginx.pid;
error_log {conf.parent}/error.log warn; events {{ worker_connections 1024; }}
http {{ include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
  sendfile on; tcp_nopush on; keepalive_timeout 65; client_body_temp_path {conf.parent}/cb;
  proxy_temp_path {conf.parent}/p; fastcgi_temp_path {conf.parent}/f; uwsgi_temp_path {conf.parent}/u;
  scgi_temp_path {conf.parent}/s; gzip on; gzip_vary on; gzip_comp_level 1;
  gzip_types text/css application/javascript image/svg+xml;
  server {{ listen {HOST}:{PORTS["nginx"]}; root {html_dir}; index index.html; }} }}
""")
    return conf


def wrk(url: str, duration: int) -> tuple[float, float, float]:
    """Return (req/s, p50 ms, p99 ms) of one wrk run."""
    out = subprocess.run(
        [
            "timeout",
            str(duration + 30),
            "wrk",
            "-t2",
            "-c50",
            f"-d{duration}s",
            "--latency",
            "-H",
            "Accept-Encoding: gzip",
            url,
        ],
        capture_output=True,
        text=True,
    ).stdout
    found_rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    rps = float(found_rps.group(1)) if found_rps else float("nan")

    def ms(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        print(f"# warning: non-2xx answers from {url}", file=sys.stderr)
    return rps, ms("50"), ms("99")


def search_words(html_dir: Path, lang: str) -> dict[str, str]:
    """Return a common, a mid and a rare word of a language's articles, by document frequency."""
    docs: collections.Counter[str] = collections.Counter()
    files = sorted((html_dir / lang).glob("article-*.html"))
    for path in files:
        text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(re.findall(r"<p>(.*?)</p>", path.read_text()))))
        docs.update({w for w in re.findall(r"\w{4,}", text.lower()) if not w.isdigit()})
    ranked = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))
    mid = min(ranked, key=lambda kv: (abs(kv[1] - len(files) * 0.1), kv[0]))
    rare = next(kv for kv in reversed(ranked) if kv[1] >= 2)
    return {"common": ranked[0][0], "mid": mid[0], "rare": rare[0]}


def time_search(url: str, count: int, budget: float) -> tuple[float, float]:
    """Return p50 and p95 in ms of up to count sequential requests (within budget seconds)."""
    times: list[float] = []
    end = time.perf_counter() + budget
    for i in range(count):
        t0 = time.perf_counter()
        req = urllib.request.Request(f"{url}&bench={i}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() > end and len(times) >= 2:
            break
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


class Servers:
    """Waypost, kiwix-serve and nginx on one corpus, started and stopped together."""

    def __init__(self, args: argparse.Namespace, work: Path, html_dir: Path, zim: Path, bundle: Path) -> None:
        self.args, self.work, self.html_dir, self.zim, self.bundle = args, work, html_dir, zim, bundle
        self.procs: dict[str, subprocess.Popen] = {}
        self.cold: dict[str, float] = {}
        self.idle: dict[str, float] = {}

    def urls(self) -> dict[str, str]:
        return {name: f"http://{HOST}:{port}" for name, port in PORTS.items()}

    def commands(self) -> dict[str, tuple[list[str], str, dict | None]]:
        u = self.urls()
        env = dict(os.environ, WAYPOST_INSTANCE_PATH=str(self.work / "instance"), WAYPOST_SERVER_THREADS="8")
        conf = nginx_conf(self.work, self.html_dir)
        return {
            "waypost": (
                [self.args.waypost, "serve", "--bundle", str(self.bundle), "--port", str(PORTS["waypost"])],
                u["waypost"] + "/en/",
                env,
            ),
            "kiwix": (
                ["kiwix-serve", f"--address={HOST}", f"--port={PORTS['kiwix']}", "--nosearchbar", str(self.zim)],
                u["kiwix"] + "/corpus/index.html",
                None,
            ),
            "nginx": (
                ["nginx", "-e", str(conf.parent / "error.log"), "-p", str(conf.parent), "-c", str(conf)],
                u["nginx"] + "/index.html",
                None,
            ),
        }

    def __enter__(self) -> Servers:
        for name, (cmd, url, env) in self.commands().items():
            # The first start compiles catalogs and warms the page cache; the cold start is the median of the next.
            times = []
            for _ in range(1 if self.args.quick else 3):
                proc, seconds = start(cmd, url, env)
                times.append(seconds)
                stop(proc)
            self.procs[name], seconds = start(cmd, url, env)
            self.cold[name] = statistics.median([*times, seconds][1:] or [seconds])
            time.sleep(1)
            self.idle[name] = rss_mb(self.procs[name].pid)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in list(self.procs.values()):
            stop(proc)

    def rss(self, name: str, field: str = "VmRSS") -> float:
        """Return the RSS of a server (nginx: master and workers together)."""
        pid = self.procs[name].pid
        pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return sum(rss_mb(p, field) for p in pids)


def page_bench(servers: Servers, args: argparse.Namespace) -> dict[tuple[str, str], tuple[float, float, float, str]]:
    """Return (req/s, p50, p99, load) medians per (page, server), the runs interleaved."""
    u = servers.urls()
    kiwix_prefix = "/corpus" if urllib_ok(u["kiwix"] + "/corpus/en/article-0001.html") else "/content/corpus"
    targets = {
        ("article", "waypost"): u["waypost"] + "/en/corpus/article-0001",
        ("article", "kiwix"): u["kiwix"] + kiwix_prefix + "/en/article-0001.html",
        ("article", "nginx"): u["nginx"] + "/en/article-0001.html",
        ("home", "waypost"): u["waypost"] + "/en/",
        ("home", "kiwix"): u["kiwix"] + kiwix_prefix + "/index.html",
        ("home", "nginx"): u["nginx"] + "/index.html",
        ("topic", "waypost"): u["waypost"] + "/en/corpus/",
        ("topic", "kiwix"): u["kiwix"] + kiwix_prefix + "/en/index.html",
        ("topic", "nginx"): u["nginx"] + "/en/index.html",
    }
    for url in targets.values():
        urllib_ok(url, must=True)
    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = collections.defaultdict(list)
    loads: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for _ in range(args.repeat):
        for key, url in targets.items():
            loads[key].append(load())
            runs[key].append(wrk(url, args.duration))
    medians = {key: [statistics.median(r[i] for r in found) for i in range(3)] for key, found in runs.items()}
    return {key: (m[0], m[1], m[2], "/".join(loads[key])) for key, m in medians.items()}


def urllib_ok(url: str, must: bool = False) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=300) as r:  # a first view may fill caches
            return r.status == 200
    except OSError as exc:
        if must:
            raise SystemExit(f"{url}: {exc}") from None
        return False


def search_bench(servers: Servers, html_dir: Path, count: int) -> dict[tuple[str, str, str], tuple]:
    """Return (p50, p95, load) per (server, lang, word class)."""
    u = servers.urls()
    found = {}
    for lang in ("en", "ar"):
        for kind, word in search_words(html_dir, lang).items():
            q = urllib.parse.quote(word)
            found[("waypost", lang, kind)] = (
                *time_search(f"{u['waypost']}/{lang}/search?q={q}", count, 30),
                load(),
                word,
            )
            kiwix = f"{u['kiwix']}/search?content=corpus&pattern={q}"
            found[("kiwix", lang, kind)] = (*time_search(kiwix, count, 30), load(), word)
    return found


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and b == b and a == a else "–"


def table(rows: list[tuple[str, ...]]) -> str:
    head = ("measure", "kiwix-serve", "nginx", "Waypost", "Waypost/kiwix", "goal", "load1")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def page_rows(pages: dict, servers: Servers) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for page, peer, goal in (("article", "article", 1.0), ("home", "welcome page", 1.0), ("topic", "index", 0.5)):
        k, n, w = (pages[(page, s)] for s in ("kiwix", "nginx", "waypost"))
        met = "met" if w[0] >= goal * k[0] else "NOT met"
        rows.append(
            (
                f"{page} page vs {peer}, req/s",
                f"{k[0]:,.0f}",
                f"{n[0]:,.0f}",
                f"{w[0]:,.0f}",
                ratio(w[0], k[0]),
                f"≥ {goal}× ({met})",
                w[3],
            )
        )
        met = "met" if w[2] <= k[2] or page == "topic" else "NOT met"
        rows.append(
            (
                f"{page} p50 / p99 ms",
                f"{k[1]:.1f} / {k[2]:.1f}",
                f"{n[1]:.1f} / {n[2]:.1f}",
                f"{w[1]:.1f} / {w[2]:.1f}",
                ratio(w[2], k[2]),
                "p99 ≤ kiwix" + (f" ({met})" if page != "topic" else ""),
                w[3],
            )
        )
    return rows


def search_rows(found: dict, articles: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for (server, lang, kind), (p50, p95, load1, word) in found.items():
        if server != "waypost":
            continue
        k = found[("kiwix", lang, kind)]
        goal = "p95 ≤ 20 ms " + ("(met)" if p95 <= 20 else "(NOT met)") if articles >= 10_000 else "–"
        rows.append(
            (
                f"search {articles:,} {lang} {kind} '{word}' p50 / p95 ms",
                f"{k[0]:.1f} / {k[1]:.1f}",
                "–",
                f"{p50:.1f} / {p95:.1f}",
                ratio(p95, k[1]),
                goal,
                load1,
            )
        )
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small corpora, REPEAT 1, 3-second runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--waypost", default=str(Path(sys.executable).with_name("waypost")))
    parser.add_argument("--work", type=Path, default=Path("/tmp/waypost-vs-kiwix"))
    parser.add_argument("--port-offset", type=int, default=0, help="added to every port, for two runs at once")
    parser.add_argument("--small-only", action="store_true", help="skip the 10,000-article corpus")
    parser.add_argument(
        "--reuse-bundles", action="store_true", help="serve the bundles an earlier run built (no build figures)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.quick:
        args.repeat, args.duration = 1, 3
    for name in PORTS:
        PORTS[name] += args.port_offset
    for tool in ("zimwriterfs", "kiwix-serve", "nginx", "wrk", args.waypost):
        if not shutil.which(tool):
            sys.exit(f"missing {tool}: apt-get install -y kiwix-tools zim-tools nginx wrk")
    small, big = (90, 300) if args.quick else (500, 10_000)
    label = re.sub(r"\W+", "-", str(Path(args.waypost).resolve().parent.parent)).strip("-")
    work = args.work / label
    work.mkdir(parents=True, exist_ok=True)
    print(f"# {args.waypost}; loadavg at start {Path('/proc/loadavg').read_text().strip()}; nproc {os.cpu_count()}")
    sizes, builds = {}, {}
    for articles in (small,) if args.small_only else (small, big):
        html_dir, content, zim = corpus(args.work, articles)
        bundle = work / f"bundle-{articles}.sqlite"
        if args.reuse_bundles and bundle.exists():
            builds[articles] = (float("nan"), 0, "reused")  # built by an earlier run with the same builder
        else:
            builds[articles] = (*build(args.waypost, content, bundle), load())
        sizes[articles] = (bundle.stat().st_size / 1e6, zim.stat().st_size / 1e6, *bundle_split(bundle))
        print(f"# {articles} articles: built in {builds[articles][0]:.1f} s", file=sys.stderr)
    html_dir, _, zim = corpus(args.work, small)
    with Servers(args, work, html_dir, zim, work / f"bundle-{small}.sqlite") as servers:
        pages = page_bench(servers, args)
        found = search_bench(servers, html_dir, 10 if args.quick else 20)
        after = {name: servers.rss(name) for name in servers.procs}
        cold, idle = servers.cold, {name: servers.idle[name] for name in servers.procs}
    found_big: dict = {}
    if not args.small_only:
        big_html, _, big_zim = corpus(args.work, big)
        with Servers(args, work, big_html, big_zim, work / f"bundle-{big}.sqlite") as servers:
            found_big = search_bench(servers, big_html, 5 if args.quick else 10)
    rows = page_rows(pages, servers) + search_rows(found, small) + search_rows(found_big, big)
    for articles in sizes:
        b, z, content_mb, index_mb = sizes[articles]
        rows.append(
            (
                f"bundle vs ZIM, {articles:,} articles, MB (bundle content + index)",
                f"{z:.2f}",
                "–",
                f"{b:.2f} ({content_mb:.2f} + {index_mb:.2f})",
                ratio(b, z),
                "≤ 1.0×",
                builds[articles][2],
            )
        )
    rows.append(
        (
            "cold start to first 200, s",
            f"{cold['kiwix']:.3f}",
            f"{cold['nginx']:.3f}",
            f"{cold['waypost']:.3f}",
            ratio(cold["waypost"], cold["kiwix"]),
            f"≤ 0.3 s ({'met' if cold['waypost'] <= 0.3 else 'NOT met'})",
            load(),
        )
    )
    rows.append(
        (
            "RSS idle / after load, MB",
            f"{idle['kiwix']:.0f} / {after['kiwix']:.0f}",
            f"{idle['nginx']:.0f} / {after['nginx']:.0f}",
            f"{idle['waypost']:.0f} / {after['waypost']:.0f}",
            f"{ratio(idle['waypost'], idle['kiwix'])} / {ratio(after['waypost'], after['kiwix'])}",
            "≤ 40 / ≤ 60",
            load(),
        )
    )
    if big in builds:
        zim_build = (args.work / f"corpus-{big}" / "zim-build").read_text().split()
        seconds, peak, load1 = builds[big]
        rows.append(
            (
                f"build {big:,} articles: s, peak RSS MB",
                f"zimwriterfs {float(zim_build[0]):.0f} s, {zim_build[1]} MB",
                "–",
                f"{seconds:.0f} s, {peak} MB",
                ratio(seconds, float(zim_build[0])),
                "≤ 60 s, ≤ 300 MB",
                str(load1),
            )
        )
    print(
        f"wrk -t2 -c50 -d{args.duration}s gzip, median of {args.repeat} interleaved rounds; "
        "a shared 2-core machine: figures are noisy, compare within one run only."
    )
    print(table(rows))


if __name__ == "__main__":
    try:
        main()
    finally:
        for proc in list(STARTED):
            stop(proc)
