"""Benchmark: remittance prices at the World Bank's full size.

Builds the real content twice: without prices, and with a synthetic
`content/remittances/` in the published shapes at full size: a DataBank
corridor export with every corridor (367, as RPW surveys) x 3 series (USD 200,
USD 500, SmaRT) x 40 quarters, and RPW provider rows (10 services a corridor)
for the newest quarter. Prints the check + build time of each, the bundle's
growth, and the compressed (brotli, as delivery.py sends it) bytes of a
corridor page in Arabic. The target for that page is under 10 KB. Figures,
not assertions.

Usage: python bench/remittances.py [--corridors 367] [--quarters 40]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import brotli  # noqa: E402
from babel.core import get_global  # noqa: E402

from app.bundle.build import build_bundle  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.content.remittances import territory  # noqa: E402
from app.web import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "Sending Countries Name,Sending Countries Code,Series Name,Series Code,"
    "Receiving Countries  Name,Receiving Countries  Code"
)
SERIES = (("Average cost of sending USD 200 (%)", "C200"), ("Average cost of sending USD 500 (%)", "C500"),
          ("SmaRT average (%)", "SMART"))  # fmt: skip


def codes() -> list[str]:
    """Return ISO alpha-3 codes Babel knows, sorted (the corridors' countries)."""
    aliases = get_global("territory_aliases")
    return sorted(k for k in aliases if len(k) == 3 and k.isalpha() and territory(k))


def write_prices(folder: Path, corridors: int, quarters: int) -> list[str]:
    """Write the synthetic files; return the corridor keys."""
    rng = random.Random(15)
    countries = codes()
    senders, receivers = countries[:48], countries[48:153]
    pairs = sorted({(rng.choice(senders), rng.choice(receivers)) for _ in range(corridors * 3)})[:corridors]
    # Ending with the last quarter before today, so the page shows everything a fresh survey shows.
    today = datetime.now(UTC).date()
    last = today.year * 4 + (today.month - 1) // 3 - 1
    periods = [(n // 4, n % 4 + 1) for n in range(last - quarters + 1, last + 1)]
    lines = [HEADER + "," + ",".join(f"{y}Q{q} [YR{y}Q{q}]" for y, q in periods)]
    for s, d in pairs:
        for name, code in SERIES:
            values = [f"{rng.uniform(2, 12):.4f}" if rng.random() > 0.1 else ".." for _ in periods]
            lines.append(f"{s} name,{s},{name},{code},{d} name,{d}," + ",".join(values))
    folder.mkdir()
    (folder / "databank.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    newest = periods[-1]
    rows = [(ROOT / "content" / "remittances" / "rpw-sample.csv").read_text(encoding="utf-8").splitlines()[0]]
    for s, d in pairs:
        for n in range(10):
            amount, fee, inter = Decimal(200), Decimal(rng.randint(0, 1500)) / 100, Decimal("10.5")
            margin = Decimal(rng.randint(0, 600)) / 100
            rate = inter * (1 - margin / 100)
            total = fee / amount * 100 + margin
            rows.append(
                f"{newest[0]}_{newest[1]}Q,{s},{s} name,{d},{d} name,Provider {n},Money Transfer Operator,"
                f"Debit card,Internet,Cash,Same day,yes,{inter},{amount},200,USD,{fee},{rate},{margin},{total},"
                ",,,,,,,"
            )
    (folder / "rpw.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    shutil.copy(ROOT / "content" / "remittances" / "source.yaml", folder / "source.yaml")
    return [f"{s}-{d}" for s, d in pairs]


def timed_build(content: Path, out: Path) -> float:
    start = time.perf_counter()
    loaded = load_content(content)
    if loaded.errors:
        raise SystemExit("\n".join(str(p) for p in loaded.errors[:10]))
    build_bundle(loaded, out)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corridors", type=int, default=367)
    parser.add_argument("--quarters", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "content"
        shutil.copytree(ROOT / "content", base, ignore=shutil.ignore_patterns("remittances"))
        plain = timed_build(base, Path(tmp) / "plain.bundle")
        keys = write_prices(base / "remittances", args.corridors, args.quarters)
        full = timed_build(base, Path(tmp) / "prices.bundle")
        growth = (Path(tmp) / "prices.bundle").stat().st_size - (Path(tmp) / "plain.bundle").stat().st_size
        os.environ["WAYPOST_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        app = create_app({"TESTING": True, "BUNDLE": str(Path(tmp) / "prices.bundle")})
        page = app.test_client().get(f"/ar/remittances/{keys[0]}").get_data()
        print(f"corridors: {len(keys)} x {args.quarters} quarters x {len(SERIES)} series, 10 providers each")
        print(f"check + build without prices: {plain:.2f} s; with prices: {full:.2f} s (+{full - plain:.2f} s)")
        print(f"bundle growth: {growth / 1000:.0f} KB")
        print(f"corridor page (ar): {len(page)} bytes raw, {len(brotli.compress(page, quality=11))} bytes brotli")


if __name__ == "__main__":
    main()
