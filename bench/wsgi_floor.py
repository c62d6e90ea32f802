"""The floor under `waypost serve`: a bare WSGI function on the same waitress, answering one captured page.

    python bench/wsgi_floor.py --copy http://127.0.0.1:8000/en/corpus/article-0001 --port 18094 [--headers all|few]

Fetches the page once (gzip) from a running Waypost and then answers every
request with exactly its status, headers and bytes (a fresh Date each time)
from a function that does nothing else, served by waitress with the options
`waypost serve` uses (WAYPOST_SERVER_THREADS and the rest, from the same
settings). What Waypost spends beyond this is the cost of its own code on a
cached page; `--headers few` keeps only Content-Type, Content-Encoding and
Content-Length, to show what the privacy and caching headers cost waitress.
bench/vs_kiwix.py --floor runs it beside the others. Runs until stopped (SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.http import http_date  # noqa: E402

from app import settings  # noqa: E402
from app.web.server import create_server, raise_file_limit, waitress_options  # noqa: E402

FEW = {"content-type", "content-encoding", "content-length"}
# Waitress adds these itself.
OWN = {"server", "date", "connection", "transfer-encoding"}


def capture(url: str, few: bool) -> tuple[str, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=60) as got:
        body = got.read()
        status = f"{got.status} {got.reason}"
        headers = [(k, v) for k, v in got.headers.items() if k.lower() not in OWN and (not few or k.lower() in FEW)]
    return status, headers, body


def floor_app(status: str, headers: list[tuple[str, str]], body: bytes) -> Callable:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        start_response(status, [*headers, ("Date", http_date())])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copy", required=True, help="URL of the page to answer with")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--headers", choices=("all", "few"), default="all")
    args = parser.parse_args()
    app = floor_app(*capture(args.copy, args.headers == "few"))
    options = waitress_options(settings.resolve(), raise_file_limit())
    create_server(app, ["127.0.0.1"], args.port, options).run()


if __name__ == "__main__":
    main()
