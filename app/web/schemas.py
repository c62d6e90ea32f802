"""The JSON payloads of the API and the offline files, as marshmallow schemas: the one definition of each.

Kept apart from the views so that marshmallow (about 90 ms to import, most of it compiling the
e-mail and URL patterns of marshmallow.validate) loads on the first JSON answer, not when
`waypost serve` starts: each view imports this module when it runs.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app import remittance_method as method

# Status, articles and search (api.py)


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


# Offline: the web manifest and a save list (offline.py)


class IconSchema(Schema):
    src = fields.String()
    sizes = fields.String()
    type = fields.String()
    purpose = fields.String()


class WebManifestSchema(Schema):
    """The web app manifest (manifest.webmanifest); the hub's signed manifest is another thing."""

    name = fields.String()
    short_name = fields.String()
    description = fields.String()
    lang = fields.String()
    dir = fields.String()
    start_url = fields.String()
    scope = fields.String()
    display = fields.String()
    background_color = fields.String()
    theme_color = fields.String()
    icons = fields.List(fields.Nested(IconSchema))


class IndexEntrySchema(Schema):
    url = fields.String()
    lang = fields.String()
    dir = fields.String()
    title = fields.String()
    summary = fields.String()
    text = fields.String()
    # The glossary's other words for the terms the article uses, as the server's index has them.
    synonyms = fields.String()
    # A saved place's services (web/local_search.py): kind "service", and the sample place's notice.
    kind = fields.String()
    note = fields.String()


class SaveListSchema(Schema):
    version = fields.String()
    lang = fields.String()
    dir = fields.String()
    topic = fields.String()
    name = fields.String()
    url = fields.String()
    label = fields.String()
    pages = fields.List(fields.String())
    index = fields.List(fields.Nested(IndexEntrySchema))


# Places and their services (places_api.py)


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


class PlaceServiceSchema(Schema):
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


# Remittance prices (remittance_api.py)


class Cents(fields.Field):
    """A Decimal shown rounded once to two places, as a string; None stays null."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(method.rounded(value))


class AgeSchema(Schema):
    year = fields.Integer()
    quarter = fields.Integer()
    months = fields.Integer()
    band = fields.String()


class CorridorSummarySchema(Schema):
    corridor = fields.String()
    source_code = fields.String()
    destination_code = fields.String()
    source_label = fields.String()
    destination_label = fields.String()
    newest = fields.String()
    flags = fields.List(fields.String())


class CostSchema(Schema):
    period = fields.String()
    cc1 = Cents(allow_none=True)
    cc2 = Cents(allow_none=True)
    smart = Cents(allow_none=True)


class RemittanceServiceSchema(Schema):
    position = fields.Integer()
    firm = fields.String()
    firm_type = fields.String()
    payment_instrument = fields.String()
    access_point = fields.String()
    pickup_method = fields.String()
    speed = fields.String()
    transparent = fields.Boolean()
    cc1_amount = Cents()
    cc1_fee = Cents()
    cc1_margin = Cents()
    cc1_total = Cents()
    # Hidden (null) once the prices are three months old: rates move every day.
    arrives = Cents(allow_none=True)


class CorridorSchema(CorridorSummarySchema):
    send_currency = fields.String()
    receive_currency = fields.String()
    age = fields.Nested(AgeSchema)
    trend = fields.List(fields.Nested(CostSchema))
    services = fields.List(fields.Nested(RemittanceServiceSchema))
    attribution = fields.String()
    sample = fields.Boolean()


class QuoteSchema(Schema):
    paid = fields.String()
    sent = fields.String()
    fee = fields.String()
    received = fields.String()
    cost = fields.String(allow_none=True)
    fee_share = fields.String()
    margin = fields.String(allow_none=True)
