"""A small JSON API over the same queries the pages use.

marshmallow schemas are the only definition of each payload; every error has
the shape {"error": {"status": ..., "message": ...}}.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request

from app import kiosk_state
from app.bundle import read as bundle
from app.bundle import search as searching
from app.bundle import service_search
from app.web import store
from app.web.freshness import freshness

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(status: int, message: str) -> tuple[Response, int]:
    """Return the JSON error every API failure uses."""
    from app.web import schemas  # marshmallow loads with the first JSON answer

    return jsonify(error=schemas.ErrorSchema().dump({"status": status, "message": message})), status


def searched(lang: str, query: str) -> tuple[dict, dict]:
    """Return one page of the guidance a query finds (`?page=`), and the local help it finds on the first.

    Local help has its own index (app/bundle/service_search.py), searched in
    every language; it heads the first page only, as later pages carry more guidance.
    """
    db, source, limit = store.get_db(), store.source_language(), current_app.config["SEARCH_RESULTS"]
    found = bundle.search(db, lang, source, query, limit, searching.page_number(request.args.get("page")))
    if found["page"] > 1:
        return found, {"terms": found["terms"], "places": [], "services": [], "total": 0}
    return found, service_search.search(db, query, lang, source, limit)


def _check_lang(lang: str) -> None:
    if lang not in {x["code"] for x in store.live().languages}:
        abort(404, f"unknown language '{lang}'")


@bp.errorhandler(bundle.BundleError)
def no_bundle(exc: bundle.BundleError) -> tuple[Response, int]:
    current_app.logger.error("cannot serve: %s", exc)
    return error_response(503, "no guidance bundle is loaded")


@bp.get("/status")
def status() -> Response:
    """Describe the live bundle: what a kiosk's operator or a monitoring script checks."""
    from app.web import schemas  # marshmallow loads with the first JSON answer

    live = store.live()
    meta = live.meta
    info: dict[str, object] = dict(meta)
    info["languages"] = [x["code"] for x in live.languages]
    info["version"] = current_app.config["VERSION"]
    path = Path(current_app.config["BUNDLE"])
    fresh = freshness(path, meta, current_app.config["FRESHNESS_DAYS"])
    info["bundle"] = {
        "version": int(meta.get("bundle_version", 0)),
        "content_digest": meta.get("content_digest"),
        "built_at": meta.get("built_at"),
        "signed": "key_id" in meta,
        "expires": meta.get("expires"),
        "expired": fresh.expired_on is not None,
        "key_id": meta.get("key_id"),
        "publisher": meta.get("publisher"),
        "confirmed_on": fresh.confirmed_on.isoformat() if fresh.confirmed_on else None,
        "stale": fresh.stale,
    }
    info["last_update"] = kiosk_state.read_state(path).get("last")
    return jsonify(schemas.StatusSchema().dump(info))


@bp.get("/<lang>/articles/<slug>")
def article(lang: str, slug: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    _check_lang(lang)
    found = bundle.article(store.get_db(), lang, store.source_language(), slug)
    if found is None:
        abort(404, f"no article '{slug}'")
    return jsonify(schemas.ArticleSchema().dump(found))


@bp.get("/<lang>/search")
def search(lang: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    _check_lang(lang)
    query = request.args.get("q", "")
    found, local = searched(lang, query)
    payload = {"query": query, **found, "places": local["places"], "services": local["services"],
               "services_total": local["total"]}  # fmt: skip
    return jsonify(schemas.SearchSchema().dump(payload))
