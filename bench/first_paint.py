"""Benchmark: when does a page first paint on a slow link, with the stylesheet linked or inlined?

Serves the real content with the real app on loopback (tests/live.py serving) and opens
pages in Debian's Chromium with CDP network throttling (250 kbps both ways,
300 ms latency). Two ways to deliver the stylesheet are compared:

- linked: the site as it is, `<link rel=stylesheet>` to the hashed, immutable file;
- inlined: the whole stylesheet in a `<style>` in every page, allowed by its CSP hash.

For each it prints the median first contentful paint and transferred bytes of
a first visit (empty cache) and of a repeat visit to another page (the linked
stylesheet then comes from the browser's cache). Figures, not assertions.

Usage: python bench/first_paint.py [--runs 5] [--page /ar/money/keep-receipts]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Response  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app.bundle.build import build_bundle  # noqa: E402
from app.content.load import load_content  # noqa: E402
from app.web import create_app  # noqa: E402
from tests.live import LAUNCH, serving  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
THROTTLE = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 250_000 / 8}


def inline_css(app) -> None:
    """Make every HTML page carry the whole stylesheet inline, as the "inlined" variant would."""
    asset = app.extensions["waypost_assets"]["waypost.css"]
    css = asset.body.decode("utf-8")
    digest = base64.b64encode(hashlib.sha256(asset.body).digest()).decode("ascii")

    @app.after_request  # runs before delivery.finish (registered earlier), so the result is compressed
    def swap(response: Response) -> Response:
        if response.mimetype == "text/html" and response.status_code == 200:
            html = response.get_data(as_text=True)
            link = f'<link rel="stylesheet" href="/static/{asset.digest}/waypost.css">'
            response.set_data(html.replace(link, f"<style>{css}</style>"))
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; style-src 'sha256-{digest}'; script-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
            )
        return response


def visit(context, url: str) -> tuple[float, int]:
    """Open url over the throttled link; return (first contentful paint in ms, bytes transferred)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLE)
    received = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    page.goto(url, wait_until="load")
    page.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    page.close()
    return fcp, sum(received)


def measure(browser, site: str, first: str, repeat: str, runs: int) -> dict[str, tuple[float, int]]:
    figures: dict[str, list[tuple[float, int]]] = {"first visit": [], "repeat visit": []}
    for _ in range(runs):
        # service_workers="block": this measures the HTTP path every phone has, kiosk or not.
        context = browser.new_context(viewport={"width": 360, "height": 640}, service_workers="block")
        figures["first visit"].append(visit(context, site + first))
        figures["repeat visit"].append(visit(context, site + repeat))
        context.close()
    return {
        kind: (statistics.median(fcp for fcp, _ in runs_), int(statistics.median(size for _, size in runs_)))
        for kind, runs_ in figures.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", default="/ar/money/keep-receipts")
    parser.add_argument("--repeat", default="/ar/money/compare-providers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bench.bundle"
        build_bundle(load_content(ROOT / "content"), bundle)
        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(**LAUNCH)
            for variant in ("linked", "inlined"):
                app = create_app({"BUNDLE": str(bundle)})
                if variant == "inlined":
                    inline_css(app)
                with serving(app) as site:
                    results[variant] = measure(browser, site, args.page, args.repeat, args.runs)
            browser.close()
    print(f"250 kbps, 300 ms latency, median of {args.runs}; {args.page}, then {args.repeat}")
    print(f"{'':10} {'first visit':>24} {'repeat visit':>24}")
    for variant, figures in results.items():
        cells = [f"{fcp:6.0f} ms FCP {size / 1000:5.1f} kB" for fcp, size in figures.values()]
        print(f"{variant:10} {cells[0]:>24} {cells[1]:>24}")


if __name__ == "__main__":
    main()
