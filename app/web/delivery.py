"""How every response leaves the server: compressed, validated by ETag, private.

Pages are small and change only with the bundle, so each response gets a
strong ETag from its bytes; a repeat visit costs a 304 and a few hundred bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import brotli
from flask import Flask, Response, current_app, g, request
from werkzeug.utils import redirect

COMPRESSIBLE = {
    "text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
    "application/json", "application/manifest+json", "image/svg+xml",
}  # fmt: skip
MIN_COMPRESS_BYTES = 256

# No third party may be contacted and nothing may leak who reads what.
PRIVACY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
}

access_log = logging.getLogger("waypost.access")


def init_app(app: Flask) -> None:
    """Finish every response of the app on its way out."""
    app.before_request(_start_clock)
    app.after_request(finish)


def _start_clock() -> None:
    g.waypost_started = time.perf_counter()


def finish(response: Response) -> Response:
    """Add privacy headers, then an ETag and compression where they apply."""
    for name, value in PRIVACY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-cache")
    _relative_location(response)
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.direct_passthrough
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
    ):
        _validate_and_compress(response)
    if current_app.config["ACCESS_LOG"]:
        # Method, path (never the query: it holds what was searched), status and
        # time taken; who asked is never recorded.
        took = (time.perf_counter() - g.get("waypost_started", time.perf_counter())) * 1000
        access_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, took)
    return response


def _relative_location(response: Response) -> None:
    """Make a redirect relative, so it never repeats the request's Host header.

    Flask sends a Location as the view gave it, but the router's own
    redirects (`/en` to `/en/`) are built from the Host the client sent, in
    whatever spelling Werkzeug normalises it to. Waypost sends a reader to
    another site only through "Leave quickly", to the operator's LEAVE_URL;
    every other absolute Location is one of these.
    """
    location = response.headers.get("Location")
    if location and location != current_app.config.get("LEAVE_URL"):
        parts = urlsplit(location)
        if parts.netloc:
            relative = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
            response.headers["Location"] = relative
            if 300 <= response.status_code < 400:
                # The router's redirect page also spells the old address out.
                response.set_data(redirect(relative, response.status_code).get_data())


def _validate_and_compress(response: Response) -> None:
    body = response.get_data()
    encoding = _encoding() if len(body) >= MIN_COMPRESS_BYTES else None
    response.vary.add("Accept-Encoding")
    # Each encoding is its own representation, so each gets its own strong tag.
    suffix = {"br": "-br", "gzip": "-gz"}.get(encoding or "", "")
    response.set_etag(hashlib.sha256(body).hexdigest()[:24] + suffix)
    response.make_conditional(request)
    if response.status_code != 200 or encoding is None:
        return
    if encoding == "br":
        response.set_data(brotli.compress(body, quality=5))
    else:
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = encoding


def _encoding() -> str | None:
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if accepted[encoding] > 0:
            return encoding
    return None
