"""Starting, stopping and measuring servers on loopback for bench/vs_kiwix.py: wrk, RSS, CPU time, by PID only."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
STARTED: list[subprocess.Popen] = []
TICK = os.sysconf("SC_CLK_TCK")


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


def start(cmd: list[str], url: str, env: dict | None = None) -> tuple[subprocess.Popen, float, float]:
    """Start a server; return it, the seconds to its first 200 and the CPU seconds it used until then."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    STARTED.append(proc)
    seconds = wait_http(url, 60) - t0
    return proc, seconds, cpu_seconds(proc.pid)


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


def family(pid: int) -> list[int]:
    """Return a process and its children (nginx: master and workers)."""
    try:
        return [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return [pid]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pss_mb(pid: int) -> float:
    """Return a process's proportional set size: its own pages, plus its share of pages it shares with others.

    Summed over a server's processes, a page two of them share is counted
    once, where VmRSS would count it twice; for one process it is a little
    below VmRSS (shared libraries are split with every process using them).
    """
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds a process and its children have used so far."""
    total = 0
    for p in family(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def wrk(url: str, duration: int) -> tuple[float, float, float, int]:
    """Return (req/s, p50 ms, p99 ms, requests) of one wrk run (-t2 -c50, gzip)."""
    cmd = ["timeout", str(duration + 30), "wrk", "-t2", "-c50", f"-d{duration}s", "--latency",
           "-H", "Accept-Encoding: gzip", url]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    found_rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    rps = float(found_rps.group(1)) if found_rps else float("nan")
    found_count = re.search(r"(\d+) requests in", out)

    def ms(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        print(f"# warning: non-2xx answers from {url}", file=sys.stderr)
    return rps, ms("50"), ms("99"), int(found_count.group(1)) if found_count else 0


def nginx_conf(work: Path, html_dir: Path, port: int) -> Path:
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
  server {{ listen {HOST}:{port}; root {html_dir}; index index.html; }} }}
""")
    return conf
