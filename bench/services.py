"""Benchmark: a directory of 5,000 HSDS services in one place.

Copies the shipped content (articles, glossary, languages), adds one place
with N synthetic services as an HSDS 3.0 export (services, locations,
service_at_location, addresses, phones, schedules, taxonomy), builds it with
the real builder and prints: check + build time, how much the bundle grew,
the place page's bytes (raw, gzip, brotli), the place's offline save list
(what saving it for offline fetches first, with its search index), and the
p50/p95 time of a service search (a common query, a rare one, an Arabic one,
and random 1-2 word ones) through the search pages' own function
(service_search.search, FTS5), interleaved in one run with the substring scan
it replaced (kept below as `substring_scan`, over the same folded text), wall
and CPU time, with the load average beside them.
Targets (issue #14): place page under 15 KB compressed; search p95 under 20 ms.

Usage: python bench/services.py [--services 5000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bundle import places as local  # noqa: E402
from app.bundle import read as bundle  # noqa: E402
from app.bundle import service_search  # noqa: E402
from app.bundle.build import build_bundle  # noqa: E402
from app.bundle.search import fold  # noqa: E402
from app.categories import CATEGORIES  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.web import create_app  # noqa: E402

TODAY = date(2026, 12, 1)
WORDS = (
    "legal advice food clinic shelter help women children language class phone charging internet money work "
    "documents consulate counselling asylum housing health doctor nurse dentist school library"
).split()
# A tenth of the services have an Arabic translation made of these words; 1 in 500 has the rare word.
ARABIC = "مساعدة قانونية طعام عيادة مأوى نساء أطفال لغة هاتف شحن إنترنت مال عمل وثائق قنصلية طبيب مدرسة".split()
RARE = "interpreter"
QUERIES = {"common": "legal advice", "rare": RARE, "arabic": "قانونيه"}  # teh marbuta typed as heh: folded
PLACE = """name: {en: Bench City, fr: Ville banc, ar: مدينة المقعد}
country: DE
timezone: Europe/Berlin
services_checked: 2026-11-20
emergency:
  - number: "112"
    name: {en: Ambulance and fire}
    source: https://digital-strategy.ec.europa.eu/en/policies/112
    checked: 2026-11-20
"""


def write_directory(folder: Path, n: int, rng: random.Random) -> None:
    services = folder / "places" / "bench-city" / "services"
    services.mkdir(parents=True)
    (services.parent / "place.yaml").write_text(PLACE, encoding="utf-8")
    rows = {"services.csv": ["id,name,description,status,assured_date,category"],
            "locations.csv": ["id,location_type,name,latitude,longitude"],
            "service_at_location.csv": ["id,service_id,location_id"],
            "addresses.csv": ["id,location_id,address_1,city,state_province,postal_code,country,address_type"],
            "phones.csv": ["id,service_id,number"],
            "schedules.csv": ["id,service_id,freq,byday,opens_at,closes_at"],
            "translations/ar.csv": ["id,name,description"]}  # fmt: skip
    for i in range(n):
        name = " ".join(rng.choice(WORDS) for _ in range(3)).capitalize() + f" {i}"
        text = " ".join(rng.choice(WORDS) for _ in range(25)) + (f" {RARE}" if i % 500 == 7 else "")
        if i % 10 == 3:
            arabic = [" ".join(rng.choice(ARABIC) for _ in range(k)) for k in (3, 25)]
            rows["translations/ar.csv"].append(f"s{i},{arabic[0]} {i},{arabic[1]}")
        category = CATEGORIES[i % len(CATEGORIES)]
        rows["services.csv"].append(f"s{i},{name},{text},active,2026-11-20,{category}")
        rows["locations.csv"].append(f"l{i},physical,Hall {i},{52 + rng.random():.4f},{13 + rng.random():.4f}")
        rows["service_at_location.csv"].append(f"a{i},s{i},l{i}")
        rows["addresses.csv"].append(f"d{i},l{i},{i} Bench Street,Bench City,Berlin,10{i % 1000:03d},DE,physical")
        rows["phones.csv"].append(f"p{i},s{i},030 23125 {i % 1000:03d}")
        rows["schedules.csv"].append(f'h{i},s{i},WEEKLY,"MO,WE,FR",09:00,17:00')
    (services / "translations").mkdir()
    for name, lines in rows.items():
        (services / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(folder: Path, out: Path) -> float:
    start = time.perf_counter()
    content = load_content(folder, today=TODAY)
    assert not content.errors, [str(p) for p in content.errors[:5]]
    build_bundle(content, out)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        base, big = Path(tmp) / "base", Path(tmp) / "big"
        shutil.copytree(ROOT / "content", base, ignore=shutil.ignore_patterns("places"))
        shutil.copytree(base, big)
        write_directory(big, args.services, rng)
        base_time = build(base, Path(tmp) / "base.bundle")
        big_time = build(big, Path(tmp) / "big.bundle")
        grown = (Path(tmp) / "big.bundle").stat().st_size - (Path(tmp) / "base.bundle").stat().st_size
        print(f"services: {args.services}")
        print(f"check + build: {big_time:.1f} s with the services, {base_time:.1f} s without")
        print(f"bundle growth: {grown / 1024:.0f} KB ({grown / args.services:.0f} bytes a service)")
        client = create_app({"TESTING": True, "BUNDLE": str(Path(tmp) / "big.bundle")}).test_client()
        for url in ("/en/places/bench-city/", "/en/places/bench-city/in/health", "/en/places/bench-city/services/s7"):
            body = client.get(url).data
            print(f"{url}: {len(body) / 1024:.1f} KB raw, {len(gzip.compress(body, 6)) / 1024:.1f} KB gzip, "
                  f"{len(brotli.compress(body, quality=11)) / 1024:.1f} KB brotli")  # fmt: skip
        listed = client.get("/en/places/bench-city/offline.json").data
        print(f"/en/places/bench-city/offline.json: {len(listed) / 1024:.1f} KB raw, "
              f"{len(gzip.compress(listed, 6)) / 1024:.1f} KB gzip")  # fmt: skip
        time_searches(Path(tmp) / "big.bundle", Path(tmp) / "old.sqlite", rng)


def substring_scan(conn: sqlite3.Connection, query: str, lang: str, source: str, limit: int = 20) -> list[dict]:
    """The service search this benchmark compares with: a substring scan over a table of folded text."""
    words = [w for w in fold(query).split() if w]
    if not words:
        return []
    where = " AND ".join("instr(search, ?) > 0" for _ in words)
    rows = conn.execute(
        f"SELECT s.place, s.data FROM (SELECT place, id, name FROM service_search WHERE {where}"
        " ORDER BY name LIMIT ?) AS m JOIN services s ON s.place = m.place AND s.id = m.id ORDER BY m.name",
        (*words, limit),
    )
    found = [{"place": row[0], **local._short(json.loads(row[1]), lang, source)} for row in rows]
    for p in local.places(conn, lang, source):
        names = fold(" ".join(json.loads(conn.execute("SELECT names FROM places WHERE id = ?", (p["id"],))
                                         .fetchone()[0]).values()))  # fmt: skip
        if all(w in names for w in words):
            found.insert(0, {"place": p["id"], "id": None, "name": p["name"], "kind": "place"})
    return found


def old_copy(path: Path, out: Path) -> sqlite3.Connection:
    """Return a copy of the bundle with the table the substring scan read (the same folded text as the index)."""
    shutil.copy(path, out)
    conn = sqlite3.connect(out)
    conn.execute("CREATE TABLE service_search (place TEXT, id TEXT, name TEXT, search TEXT, PRIMARY KEY (place, id))")
    for place, sid, name, data in conn.execute("SELECT place, id, name, data FROM services").fetchall():
        text = " ".join(service_search.service_text(json.loads(data)))
        conn.execute("INSERT INTO service_search VALUES (?, ?, ?, ?)", (place, sid, name, text))
    conn.commit()
    conn.row_factory = sqlite3.Row
    return conn


def time_searches(path: Path, old_path: Path, rng: random.Random) -> None:
    """Print p50/p95 wall and CPU time of both searches, each query run by both in turn."""
    conn, old = bundle.connect(path), old_copy(path, old_path)
    searches = {"fts5": lambda q: service_search.search(conn, q, "ar", "en"),
                "substring": lambda q: substring_scan(old, q, "ar", "en")}  # fmt: skip
    kinds = {name: [query] * 100 for name, query in QUERIES.items()}
    kinds["random"] = [" ".join(rng.sample(WORDS, rng.randint(1, 2))) for _ in range(200)]
    for kind, query in QUERIES.items():
        new = service_search.search(conn, query, "ar", "en")
        shown = len(substring_scan(old, query, "ar", "en"))
        print(f"{kind} query {query!r}: fts5 matches {new['total']} services and shows {len(new['services'])}; "
              f"the substring scan shows {shown}")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for kind, queries in kinds.items():
        timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in searches}
        for query in queries:
            for name, search in searches.items():
                wall, cpu = time.perf_counter(), time.process_time()
                search(query)
                timings[name][0].append((time.perf_counter() - wall) * 1000)
                timings[name][1].append((time.process_time() - cpu) * 1000)
        for name, (walls, cpus) in timings.items():
            print(
                f"service search {kind:7} {name:9}: p50 {statistics.median(walls):5.1f} ms, "
                f"p95 {p95(walls):5.1f} ms wall; p95 {p95(cpus):5.1f} ms CPU ({len(queries)} queries)"
            )
    conn.close()
    old.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


if __name__ == "__main__":
    main()
