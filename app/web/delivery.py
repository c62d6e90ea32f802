"""How every response leaves Flask: private, and never repeating the Host a client sent.

Compression, the strong ETag and the access log are added outside Flask, by
the response cache (cache.py), so cached answers get exactly the same.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, current_app
from werkzeug.utils import redirect

# Browser features a page may ask for: none, unless a page allows one for its own origin (permissions_policy).
FEATURES = ("geolocation", "camera", "microphone", "interest-cohort")


def permissions_policy(*own_origin: str) -> str:
    """Return a Permissions-Policy that denies every feature but `own_origin`'s, which only this origin may use."""
    return ", ".join(f"{name}=(self)" if name in own_origin else f"{name}=()" for name in FEATURES)


# No third party may be contacted and nothing may leak who reads what.
PRIVACY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": permissions_policy(),
    # Not the server software's name and version, which tell an attacker what to try.
    "Server": "Waypost",
}


def init_app(app: Flask) -> None:
    """Finish every response of the app on its way out."""
    app.after_request(finish)


def finish(response: Response) -> Response:
    """Add privacy headers and make redirects relative; cache.py then compresses, validates and logs."""
    for name, value in PRIVACY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-cache")
    _relative_location(response)
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
