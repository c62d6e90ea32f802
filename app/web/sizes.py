"""What a topic costs to keep offline: its pack, and everything "Save for offline" fetches.

Measured once per bundle and app version, the first time a page shows it, by
asking the app for those addresses the way a phone would (through the
response cache, which answers what it holds but keeps nothing a measurement
rendered, so measuring costs no brotli 11 for every page), in requests of
their own: never by calling views from inside a template. A page
asked for while measuring shows no sizes (that would measure itself again),
so it is marked uncacheable and never kept in that form.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from babel.units import format_unit
from flask import current_app, request
from flask_babel import get_locale
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app.server import give_back_memory
from app.web import cache, store


def offline_sizes(lang: str, topic: str | None) -> dict[str, Any] | None:
    """Return what a topic's pack and saving it cost, formatted for the reader; None while measuring.

    `topic` None means the glossary, which has a pack but cannot be saved.
    """
    if request.environ.get(cache.MEASURING):
        cache.uncacheable()
        return None
    key = ("offline-sizes", lang, topic, current_app.config["VERSION"])
    found = store.derived(key, lambda: _measured(lang, topic))
    if topic is None:
        return {"pack": _size(found["pack"])}
    return {"pack": _size(found["pack"]), "save": _size(found["download"]), "storage_bytes": found["storage"]}


def _measured(lang: str, topic: str | None) -> dict[str, int]:
    found = _measure(lang, topic)
    give_back_memory()  # what rendering a whole topic freed, which glibc would otherwise keep
    return found


def _measure(lang: str, topic: str | None) -> dict[str, int]:
    # A pack's size is what the phone keeps, not what it fetches: asked for as it is, not compressed for nothing.
    if topic is None:
        return {"pack": len(_fetch(f"/{lang}/glossary/pack.html", "identity")[0])}
    pack = len(_fetch(f"/{lang}/{topic}/pack.html", "identity")[0])
    listing = _fetch(f"/{lang}/{topic}/offline.json")
    download, storage = listing[1], len(listing[0])
    for url in json.loads(listing[0])["pages"]:  # one page held at a time
        body, wire = _fetch(url)
        download, storage = download + wire, storage + len(body)
    return {"pack": pack, "download": download, "storage": storage}


def _fetch(path: str, accept: str = "gzip") -> tuple[bytes, int]:
    """Return a page's body and the bytes it costs on the wire in the encoding accepted, asked of the app itself."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    environ = EnvironBuilder(
        path=path,
        base_url="http://localhost/",
        headers=[("Accept-Encoding", accept)],
        environ_base={cache.MEASURING: True},
    ).get_environ()
    answer, status, headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    try:
        wire = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()
    if not status.startswith("200"):
        return b"", 0
    body = gzip.decompress(wire) if headers.get("Content-Encoding") == "gzip" else wire
    return body, len(wire)


def _size(size: int) -> str:
    """Format a byte count for the reader, in kilobytes or megabytes."""
    locale = get_locale() or "en"
    if size < 1_000_000:
        return format_unit(max(1, round(size / 1000)), "digital-kilobyte", length="short", locale=locale)
    return format_unit(round(size / 1_000_000, 1), "digital-megabyte", length="short", locale=locale)
