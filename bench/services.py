"""Benchmark: a directory of 5,000 HSDS services in one place.

Copies the shipped content (articles, glossary, languages), adds one place
with N synthetic services as an HSDS 3.0 export (services, locations,
service_at_location, addresses, phones, schedules, taxonomy), builds it with
the real builder and prints: check + build time, how much the bundle grew,
the place page's bytes (raw, gzip, brotli) and the p50/p95 time of a service
search through the real search page's query function.
Targets (issue #14): place page under 15 KB compressed; search p95 under 20 ms.

Usage: python bench/services.py [--services 5000]
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
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
from app.bundle.build import build_bundle  # noqa: E402
from app.categories import CATEGORIES  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.web import create_app  # noqa: E402

TODAY = date(2026, 12, 1)
WORDS = (
    "legal advice food clinic shelter help women children language class phone charging internet money work "
    "documents consulate counselling asylum housing health doctor nurse dentist school library"
).split()
PLACE = """name: {en: Bench City, fr: Ville banc}
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
            "schedules.csv": ["id,service_id,freq,byday,opens_at,closes_at"]}  # fmt: skip
    for i in range(n):
        name = " ".join(rng.choice(WORDS) for _ in range(3)).capitalize() + f" {i}"
        text = " ".join(rng.choice(WORDS) for _ in range(25))
        category = CATEGORIES[i % len(CATEGORIES)]
        rows["services.csv"].append(f"s{i},{name},{text},active,2026-11-20,{category}")
        rows["locations.csv"].append(f"l{i},physical,Hall {i},{52 + rng.random():.4f},{13 + rng.random():.4f}")
        rows["service_at_location.csv"].append(f"a{i},s{i},l{i}")
        rows["addresses.csv"].append(f"d{i},l{i},{i} Bench Street,Bench City,Berlin,10{i % 1000:03d},DE,physical")
        rows["phones.csv"].append(f"p{i},s{i},030 23125 {i % 1000:03d}")
        rows["schedules.csv"].append(f'h{i},s{i},WEEKLY,"MO,WE,FR",09:00,17:00')
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
        conn = bundle.connect(Path(tmp) / "big.bundle")
        timings = []
        for _ in range(200):
            query = " ".join(rng.sample(WORDS, rng.randint(1, 2)))
            start = time.perf_counter()
            local.search_services(conn, query, "en", "en")
            timings.append((time.perf_counter() - start) * 1000)
        conn.close()
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"service search: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms (200 queries of 1-2 words)")


if __name__ == "__main__":
    main()
