"""The JSON API of the remittance comparison: corridors, one corridor, the calculator.

The same functions as the pages (app/bundle/remittances.py, app/remittance_method.py);
marshmallow schemas are the only definition of each payload. Decimals travel
as strings, rounded once to two places, exactly as the pages show them.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from app.bundle import read as bundle
from app.bundle import remittances as prices
from app.web import store
from app.web.api import error_response
from app.web.remittances import age, calculation, today

bp = Blueprint("remittance_api", __name__, url_prefix="/api/v1")


def _check_lang(lang: str) -> None:
    if lang not in {x["code"] for x in bundle.languages(store.get_db())}:
        abort(404, f"unknown language '{lang}'")


@bp.get("/<lang>/remittances")
def corridors(lang: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    _check_lang(lang)
    return jsonify(corridors=schemas.CorridorSummarySchema(many=True).dump(prices.corridors(store.get_db(), lang)))


@bp.get("/<lang>/remittances/<key>")
def corridor(lang: str, key: str) -> Response:
    from app.web import schemas  # marshmallow loads with the first JSON answer

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
    return jsonify(schemas.CorridorSchema().dump(found))


@bp.get("/remittances/calculate")
def calculate() -> Response | tuple[Response, int]:
    """Work out a reader's quote: amount, fee, rate, optional interbank, fee_mode=top|taken."""
    from app.web import schemas  # marshmallow loads with the first JSON answer

    args = {k: request.args.get(k, "")[:30] for k in ("amount", "fee", "rate", "interbank", "fee_mode")}
    result, wrong = calculation(args)
    if result is None:
        return error_response(400, "check " + ", ".join(wrong or ["amount", "fee", "rate"]))
    return jsonify(schemas.QuoteSchema().dump(result["quote"].shown()))
