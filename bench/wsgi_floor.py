"""The floor under `waypost serve`: a bare WSGI function on the same granian, answering one captured page.

    python bench/wsgi_floor.py --copy http://127.0.0.1:8000 --paths /en/ /en/corpus/article-0001 --port 18094
        [--headers all|few]

Fetches each page once (gzip) from a running Waypost and then answers a
request for it with exactly its status, headers and bytes (a fresh Date each
time) from a function that does nothing else but look the path up in a dict
(404 for any other), served by granian with the options
`waypost serve` uses (WAYPOST_SERVER_THREADS and the rest, from the same
settings, one worker forked as `serve` forks it). What Waypost spends beyond this is the cost of its own code on a
cached page; `--headers few` keeps only Content-Type, Content-Encoding and
Content-Length, to show what the privacy and caching headers cost the server.
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
from app.server import create_server, raise_file_limit, server_options  # noqa: E402

FEW = {"content-type", "content-encoding", "content-length"}
# The server adds these itself.
OWN = {"server", "date", "connection", "transfer-encoding"}


def capture(url: str, few: bool) -> tuple[str, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=60) as got:
        body = got.read()
        status = f"{got.status} {got.reason}"
        headers = [(k, v) for k, v in got.headers.items() if k.lower() not in OWN and (not few or k.lower() in FEW)]
    return status, headers, body


def floor_app(pages: dict[str, tuple[str, list[tuple[str, str]], bytes]]) -> Callable:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        found = pages.get(environ.get("PATH_INFO", ""))
        if found is None:
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return []
        status, headers, body = found
        start_response(status, [*headers, ("Date", http_date())])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copy", required=True, help="address of the running Waypost to copy pages from")
    parser.add_argument("--paths", nargs="+", required=True, help="paths of the pages to copy and answer")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--headers", choices=("all", "few"), default="all")
    args = parser.parse_args()
    base = args.copy.rstrip("/")
    app = floor_app({path: capture(base + path, args.headers == "few") for path in args.paths})
    options = server_options(settings.resolve(), raise_file_limit())
    create_server(lambda: app, ["127.0.0.1"], args.port, options).run()


if __name__ == "__main__":
    main()
