"""A small JSON API over the same queries the pages use.

marshmallow schemas are the only definition of each payload; every error has
the shape {"error": {"status": ..., "message": ...}}.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request
from marshmallow import Schema, fields

from app import kiosk_state
from app.bundle import read as bundle
from app.bundle import service_search
from app.web import store
from app.web.freshness import freshness

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ErrorSchema(Schema):
    status = fields.Integer()
    message = fields.String()


class BundleSchema(Schema):
    version = fields.Integer()
    content_digest = fields.String()
    built_at = fields.String()
    signed = fields.Boolean()
    expires = fields.String(allow_none=True)
    expired = fields.Boolean()
    key_id = fields.String(allow_none=True)
    publisher = fields.String(allow_none=True)
    confirmed_on = fields.String(allow_none=True)
    stale = fields.Boolean()


class LastUpdateSchema(Schema):
    action = fields.String()
    ok = fields.Boolean()
    message = fields.String()
    at = fields.String()


class StatusSchema(Schema):
    version = fields.String()
    content_digest = fields.String()
    built_at = fields.String()
    source_language = fields.String()
    languages = fields.List(fields.String())
    bundle = fields.Nested(BundleSchema)
    last_update = fields.Nested(LastUpdateSchema, allow_none=True)


class ArticleSourceSchema(Schema):
    """A source as the API gives it; content/schemas.py validates the front matter's, a different payload."""

    title = fields.String()
    url = fields.String()


class ArticleSchema(Schema):
    lang = fields.String()
    slug = fields.String()
    topic = fields.String()
    title = fields.String()
    summary = fields.String()
    html = fields.String()
    updated = fields.String()
    review_by = fields.String()
    sources = fields.List(fields.Nested(ArticleSourceSchema))
    translation_status = fields.String(allow_none=True)
    fallback = fields.Boolean()
    outdated = fields.Boolean()


class ResultSchema(Schema):
    lang = fields.String()
    slug = fields.String()
    topic = fields.String()
    title = fields.String()
    summary = fields.String()
    snippet = fields.String()
    fallback = fields.Boolean()


class TextSchema(Schema):
    """A text and the language it is in: the reader's when translated, else its own."""

    text = fields.String()
    lang = fields.String()


class PlaceHitSchema(Schema):
    """A place a search found (by its name in any language); `sample` marks the demo's made-up place."""

    id = fields.String()
    name = fields.Nested(TextSchema)
    country = fields.String()
    sample = fields.Boolean()


class ServiceHitSchema(Schema):
    """A service a search found; its full form is at /api/v1/<lang>/places/<place.id>/services/<id>."""

    id = fields.String()
    category = fields.String()
    name = fields.Nested(TextSchema)
    organization = fields.String()
    # The language the service's own texts are in (its organisation's name is in it too).
    lang = fields.String()
    free = fields.Boolean()
    status = fields.String()
    place = fields.Nested(PlaceHitSchema)


class SearchSchema(Schema):
    """Articles (`total`, `results`) and local help (`places`, `services`, `services_total`) for a query."""

    query = fields.String()
    terms = fields.List(fields.String())
    total = fields.Integer()
    results = fields.List(fields.Nested(ResultSchema))
    places = fields.List(fields.Nested(PlaceHitSchema))
    services = fields.List(fields.Nested(ServiceHitSchema))
    services_total = fields.Integer()


def error_response(status: int, message: str) -> tuple[Response, int]:
    """Return the JSON error every API failure uses."""
    return jsonify(error=ErrorSchema().dump({"status": status, "message": message})), status


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
    return jsonify(StatusSchema().dump(info))


@bp.get("/<lang>/articles/<slug>")
def article(lang: str, slug: str) -> Response:
    _check_lang(lang)
    found = bundle.article(store.get_db(), lang, store.source_language(), slug)
    if found is None:
        abort(404, f"no article '{slug}'")
    return jsonify(ArticleSchema().dump(found))


@bp.get("/<lang>/search")
def search(lang: str) -> Response:
    _check_lang(lang)
    query = request.args.get("q", "")
    db, source, limit = store.get_db(), store.source_language(), current_app.config["SEARCH_RESULTS"]
    found = bundle.search(db, lang, source, query, limit)
    local = service_search.search(db, query, lang, source, limit)
    payload = {"query": query, **found, "places": local["places"], "services": local["services"],
               "services_total": local["total"]}  # fmt: skip
    return jsonify(SearchSchema().dump(payload))
