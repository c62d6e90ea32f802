"""JSON for local help: a place and its services (marshmallow schemas), HSDS 3.0 export, the offline save list."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, g, jsonify, url_for
from flask_babel import ngettext

from app.bundle import places as local
from app.bundle.hsds_export import hsds_services
from app.web import local_search, store
from app.web.api import _check_lang
from app.web.offline import worker_version
from app.web.pages import site_languages
from app.web.places import place_today

bp = Blueprint("places_api", __name__)


def _place(lang: str, place_id: str) -> dict:
    _check_lang(lang)
    found = local.place(store.get_db(), place_id, lang, store.source_language())
    if found is None:
        abort(404, f"no place '{place_id}'")
    return found


@bp.get("/api/v1/<lang>/places/<place_id>")
def place(lang: str, place_id: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    found = _place(lang, place_id)
    found["services"] = local.services(store.get_db(), place_id, lang, store.source_language())
    return jsonify(schemas.PlaceSchema().dump(found))


@bp.get("/api/v1/<lang>/places/<place_id>/services/<service_id>")
def service(lang: str, place_id: str, service_id: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    found = _place(lang, place_id)
    item = local.service(store.get_db(), place_id, service_id, lang, place_today(found["timezone"]))
    if item is None:
        abort(404, f"no service '{service_id}'")
    return jsonify(schemas.PlaceServiceSchema().dump(item))


@bp.get("/api/v1/<lang>/places/<place_id>/hsds.json")
def hsds(lang: str, place_id: str) -> Response:
    """Return the place's services as HSDS 3.0 service objects (texts in lang where translated)."""
    found = _place(lang, place_id)
    body = hsds_services(local.raw_services(store.get_db(), place_id), lang, found)
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")


@bp.get("/<lang>/places/<place_id>/offline.json")
def save_list(lang: str, place_id: str) -> Response:
    """Serve what saving a place fetches: its page, its category pages, every service page, the pack."""
    from app.web import schemas  # marshmallow loads with the first JSON answer

    # A page's own language list (pseudo-locales too), as the pages it lists accept.
    language = next((x for x in site_languages() if x["code"] == lang), None)
    db = store.get_db()
    found = local.place(db, place_id, lang, store.source_language()) if language else None
    if language is None or found is None:
        abort(404)
    g.lang = lang
    pages = [url_for("places.place", lang=lang, place_id=place_id)]
    pages += [url_for("places.category", lang=lang, place_id=place_id, category=c) for c in sorted(found["counts"])]
    pages += [url_for("places.service", lang=lang, place_id=place_id, service_id=s["id"])
              for s in local.raw_services(db, place_id)]  # fmt: skip
    # The locale comes from g.lang (set above), as on every page.
    label = ngettext("%(num)d service", "%(num)d services", len(pages) - 1 - len(found["counts"]))
    body = schemas.SaveListSchema().dump({
        "version": worker_version(), "lang": lang, "dir": language["dir"], "topic": f"place-{place_id}",
        "name": found["name"]["text"], "url": pages[0], "pages": pages, "label": label,
        "index": local_search.offline_entries(found, lang),
    })  # fmt: skip
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")
