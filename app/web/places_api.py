"""JSON for local help: a place and its services (marshmallow schemas), HSDS 3.0 export, the offline save list."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, g, jsonify, url_for
from flask_babel import ngettext
from marshmallow import Schema, fields

from app.bundle import places as local
from app.bundle.hsds_export import hsds_services
from app.web import local_search, store
from app.web.api import TextSchema, _check_lang
from app.web.offline import SaveListSchema, worker_version
from app.web.pages import site_languages
from app.web.places import place_today

bp = Blueprint("places_api", __name__)


class EmergencySchema(Schema):
    number = fields.String()
    tel = fields.String()
    name = fields.Nested(TextSchema)
    source = fields.String()
    checked = fields.String()


class ServiceShortSchema(Schema):
    id = fields.String()
    category = fields.String()
    name = fields.Nested(TextSchema)
    organization = fields.String()
    free = fields.Boolean()
    status = fields.String()


class WebAddressSchema(Schema):
    text = fields.String()
    # False for an http:// address: shown as text, never as a link.
    link = fields.Boolean()


class ContactPhoneSchema(Schema):
    number = fields.String()
    tel = fields.String()


class ContactSchema(Schema):
    """The NGO's own desk for a place: name and hours in the reader's language where given."""

    name = fields.Nested(TextSchema, allow_none=True)
    phones = fields.List(fields.Nested(ContactPhoneSchema))
    email = fields.String()
    url = fields.Nested(WebAddressSchema, allow_none=True)
    address = fields.List(fields.String())
    address_lang = fields.String()
    hours = fields.Nested(TextSchema, allow_none=True)


class PlaceLinkSchema(Schema):
    id = fields.String()
    name = fields.Nested(TextSchema)


class PlaceSchema(Schema):
    id = fields.String()
    parent = fields.String(allow_none=True)
    # The places this one is inside, the biggest first, and the places directly inside it.
    ancestors = fields.List(fields.Nested(PlaceLinkSchema))
    children = fields.List(fields.Nested(PlaceLinkSchema))
    country = fields.String()
    timezone = fields.String()
    name = fields.Nested(TextSchema)
    sample = fields.Boolean()
    contact = fields.Nested(ContactSchema)
    emergency = fields.List(fields.Nested(EmergencySchema))
    # The parent whose numbers `emergency` lists when the place has none of its own; else null.
    emergency_from = fields.Nested(PlaceLinkSchema, allow_none=True)
    services = fields.List(fields.Nested(ServiceShortSchema))


class HoursSchema(Schema):
    opens = fields.String()
    closes = fields.String()
    overnight = fields.Boolean()


class DaySchema(Schema):
    date = fields.String()
    today = fields.Boolean()
    closed = fields.Boolean()
    hours = fields.List(fields.Nested(HoursSchema))
    notes = fields.List(fields.String())


class PhoneSchema(Schema):
    number = fields.String()
    tel = fields.String()
    type = fields.String()
    description = fields.String()


class ServiceSchema(Schema):
    id = fields.String()
    category = fields.String()
    status = fields.String()
    text = fields.Dict(keys=fields.String(), values=fields.Nested(TextSchema))
    phones = fields.List(fields.Nested(PhoneSchema))
    email = fields.String()
    languages = fields.List(fields.String())
    free = fields.Boolean()
    documents = fields.List(fields.String())
    checked = fields.String(allow_none=True)
    week = fields.List(fields.Nested(DaySchema))


def _place(lang: str, place_id: str) -> dict:
    _check_lang(lang)
    found = local.place(store.get_db(), place_id, lang, store.source_language())
    if found is None:
        abort(404, f"no place '{place_id}'")
    return found


@bp.get("/api/v1/<lang>/places/<place_id>")
def place(lang: str, place_id: str) -> Response:
    found = _place(lang, place_id)
    found["services"] = local.services(store.get_db(), place_id, lang, store.source_language())
    return jsonify(PlaceSchema().dump(found))


@bp.get("/api/v1/<lang>/places/<place_id>/services/<service_id>")
def service(lang: str, place_id: str, service_id: str) -> Response:
    found = _place(lang, place_id)
    item = local.service(store.get_db(), place_id, service_id, lang, place_today(found["timezone"]))
    if item is None:
        abort(404, f"no service '{service_id}'")
    return jsonify(ServiceSchema().dump(item))


@bp.get("/api/v1/<lang>/places/<place_id>/hsds.json")
def hsds(lang: str, place_id: str) -> Response:
    """Return the place's services as HSDS 3.0 service objects (texts in lang where translated)."""
    found = _place(lang, place_id)
    body = hsds_services(local.raw_services(store.get_db(), place_id), lang, found)
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")


@bp.get("/<lang>/places/<place_id>/offline.json")
def save_list(lang: str, place_id: str) -> Response:
    """Serve what saving a place fetches: its page, its category pages, every service page, the pack."""
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
    body = SaveListSchema().dump({
        "version": worker_version(), "lang": lang, "dir": language["dir"], "topic": f"place-{place_id}",
        "name": found["name"]["text"], "url": pages[0], "pages": pages, "label": label,
        "index": local_search.offline_entries(found, lang),
    })  # fmt: skip
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")
