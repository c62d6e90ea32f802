"""The operator's status page: what the kiosk serves, how fresh it is, what its updates did.

Readable by anyone who can reach the kiosk, so it shows nothing secret: no
key, no address of anyone, only what `waypost bundle status` prints. It does
not try to tell operators from readers by their address (behind Caddy every
request comes from 127.0.0.1). Everything comes from the live bundle's own
metadata and the kiosk-state files that distribution writes (kiosk_state.py);
it works when no bundle is loaded, since that is when an operator needs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from babel.units import format_unit
from flask import Blueprint, Response, abort, current_app, g, make_response, render_template
from flask_babel import get_locale

from app import kiosk_state
from app.bundle import read as bundle
from app.web import store
from app.web.cache import uncacheable
from app.web.freshness import freshness
from app.web.pages import add_lang, pull_lang, site_languages

bp = Blueprint("status", __name__)
bp.url_value_preprocessor(pull_lang)
bp.url_defaults(add_lang)
LOG_LINES = 20


@bp.before_request
def known_language() -> None:
    # As pages.check_lang, but without a bundle the page still shows (in English: the
    # bundle is what lists the languages).
    try:
        codes = {lang["code"] for lang in site_languages()}
    except bundle.BundleError:
        codes = {"en"}
    if g.lang not in codes:
        g.lang = "en"
        abort(404)


def kiosk_status() -> dict[str, Any]:
    """Gather what the status page shows about the live bundle and the kiosk's updates."""
    live = Path(current_app.config["BUNDLE"])
    found: dict[str, Any] = {"bundle": None, "fresh": None}
    try:
        meta = bundle.meta(store.get_db())
    except bundle.BundleError:
        meta = None
    if meta is not None:
        trust = kiosk_state.trust_folder(current_app.config, current_app.instance_path)
        found["bundle"] = {
            "version": meta.get("bundle_version", "0"),
            "built_on": kiosk_state.parse_date(meta.get("built_at")),
            "signed": "key_id" in meta,
            "publisher": meta.get("publisher"),
            "publisher_name": kiosk_state.key_name(trust, meta.get("key_id")),
            "expires": kiosk_state.parse_date(meta.get("expires")),
        }
        found["fresh"] = freshness(live, meta, current_app.config["FRESHNESS_DAYS"])
    state = kiosk_state.read_state(live)
    found["last"] = state.get("last")
    found["log"] = kiosk_state.read_log(live, LOG_LINES)
    found["kept"] = kiosk_state.kept_bundles(live)
    found["disk_free"] = _disk_free(live.parent)
    return found


@bp.get("/<lang>/status")
def status_page() -> Response:
    uncacheable()  # disk space and the last update change between requests
    response = make_response(render_template("kiosk/status.html", status=kiosk_status()))
    # What it says changes with every update; never keep an old copy of it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _disk_free(folder: Path) -> str | None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    locale = get_locale() or "en"
    if free >= 1_000_000_000:
        return format_unit(round(free / 1_000_000_000, 1), "digital-gigabyte", length="short", locale=locale)
    return format_unit(round(free / 1_000_000), "digital-megabyte", length="short", locale=locale)
