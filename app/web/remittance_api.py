"""The JSON API of the remittance comparison: corridors, one corridor, the calculator.

The same functions as the pages (app/bundle/remittances.py, app/remittance_method.py);
marshmallow schemas are the only definition of each payload. Decimals travel
as strings, rounded once to two places, exactly as the pages show them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from marshmallow import Schema, fields

from app import remittance_method as method
from app.bundle import read as bundle
from app.bundle import remittances as prices
from app.web import store
from app.web.api import error_response
from app.web.remittances import age, calculation, today

bp = Blueprint("remittance_api", __name__, url_prefix="/api/v1")


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


class ServiceSchema(Schema):
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
    services = fields.List(fields.Nested(ServiceSchema))
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


def _check_lang(lang: str) -> None:
    if lang not in {x["code"] for x in bundle.languages(store.get_db())}:
        abort(404, f"unknown language '{lang}'")


@bp.get("/<lang>/remittances")
def corridors(lang: str) -> Response:
    _check_lang(lang)
    return jsonify(corridors=CorridorSummarySchema(many=True).dump(prices.corridors(store.get_db(), lang)))


@bp.get("/<lang>/remittances/<key>")
def corridor(lang: str, key: str) -> Response:
    _check_lang(lang)
    db = store.get_db()
    found = prices.corridor(db, key, lang)
    if found is None:
        abort(404, f"no corridor '{key[:20]}'")
    found["age"] = age(found["newest"], today())
    if found["age"]["band"] != "fresh":
        found["services"] = [{**s, "arrives": None} for s in found["services"]]
    if found["age"]["band"] == "old":
        found["services"] = []
    source = prices.source(db)
    found["attribution"], found["sample"] = source.get("attribution", ""), bool(source.get("sample"))
    return jsonify(CorridorSchema().dump(found))


@bp.get("/remittances/calculate")
def calculate() -> Response | tuple[Response, int]:
    """Work out a reader's quote: amount, fee, rate, optional interbank, fee_mode=top|taken."""
    args = {k: request.args.get(k, "")[:30] for k in ("amount", "fee", "rate", "interbank", "fee_mode")}
    result, wrong = calculation(args)
    if result is None:
        return error_response(400, "check " + ", ".join(wrong or ["amount", "fee", "rate"]))
    return jsonify(QuoteSchema().dump(result["quote"].shown()))
