"""What sending money costs: the corridor comparison and the reader's own calculator.

Every figure comes from the bundle's World Bank RPW rows and is worked out by
app/remittance_method.py, the same code the builder and the JSON API use.
Every figure carries its age, measured from the end of its survey quarter
to the kiosk's today (`kiosk_state.kiosk_today`, never earlier than the
newest date the kiosk has seen signed).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from markupsafe import Markup

from app import kiosk_state
from app import remittance_method as method
from app.bundle import read as bundle
from app.bundle import remittances as prices
from app.i18n import runtime as i18n
from app.web import packs, store
from app.web.pages import localise, site_languages

bp = Blueprint("remittances", __name__)
localise(bp)


def today() -> date:
    """Return the kiosk's today: never earlier than the bundle's build date or the last signed check."""
    meta = bundle.meta(store.get_db())
    state = kiosk_state.read_state(Path(current_app.config["BUNDLE"]))
    return kiosk_state.kiosk_today(
        kiosk_state.parse_date(meta.get("built_at")), kiosk_state.parse_date(state.get("confirmed_on"))
    )


def age(newest: str, on: date) -> dict[str, Any]:
    """Return a survey quarter's age: year, quarter, whole months and its band on the ladder."""
    year, quarter = prices.period(newest)
    months = method.months_old(year, quarter, on)
    return {"year": year, "quarter": quarter, "months": months, "band": method.age_band(months)}


def _locale() -> str:
    code = i18n.babel_locale(g.get("lang", "en")).replace("-", "_")
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return "en"
    return code


@bp.app_template_global()
def has_prices() -> bool:
    """Say whether the live bundle holds remittance prices (the money topic then links to them)."""
    try:
        return bool(prices.source(store.get_db()))
    except bundle.BundleError:
        return False


@bp.app_template_global()
def corridors_named(query: str) -> list[dict[str, Any]]:
    """Return the corridors a site search names a country of, in any of the site's languages."""
    if not query.strip() or not has_prices():
        return []
    langs = [x["code"] for x in site_languages()]
    return prices.find_corridors(store.get_db(), query[:100], langs, g.get("lang", "en"))


@bp.app_template_global()
def quarter_label(period: str) -> str:
    """Return a bundle quarter (`2025Q1`) as the reader's language writes it."""
    year, quarter = prices.period(period)
    return gettext("%(year)s Q%(quarter)s", year=year, quarter=quarter)


@bp.app_template_filter("money")
def money(value: Decimal | None, currency: str = "") -> str:
    """Format an amount for the reader's locale, rounded once to the cent."""
    if value is None:
        return ""
    shown = method.rounded(value)
    if currency:
        return format_currency(shown, currency, locale=_locale(), currency_digits=False, numbering_system="default")
    return format_decimal(shown, format="#,##0.00", locale=_locale(), numbering_system="default")


@bp.app_template_filter("percent")
def percent(value: Decimal | None) -> str:
    """Format a percentage (3.5 means 3.5 %) for the reader's locale, to two places."""
    if value is None:
        return ""
    return format_percent(method.rounded(value) / 100, format="#,##0.00%", locale=_locale(), numbering_system="default")


@bp.app_template_filter("count")
def count(value: int) -> str:
    return format_decimal(value, locale=_locale(), numbering_system="default")


def chart(trend: list[dict[str, Any]], title: str, desc: str) -> Markup:
    """Draw the corridor's USD 200 average over the quarters, with the 3 % and 5 % lines, as inline SVG."""
    points = [(t["period"], t["cc1"]) for t in trend if "cc1" in t]
    if not points:
        return Markup("")
    width, height, pad = 320, 140, 24
    top = max([*(v for _, v in points), method.CORRIDOR_CEILING]) * Decimal("1.15")

    def y(v: Decimal) -> str:
        return f"{height - pad - float(v / top) * (height - 2 * pad):.1f}"

    step = (width - 2 * pad) / max(len(points) - 1, 1)
    xs = [pad + i * step for i in range(len(points))]
    line = " ".join(f"{x:.1f},{y(v)}" for x, (_, v) in zip(xs, points, strict=True))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-t chart-d" dir="ltr">',
        f'<title id="chart-t">{Markup.escape(title)}</title><desc id="chart-d">{Markup.escape(desc)}</desc>',
    ]
    for level, dash in ((method.SDG_TARGET, "2 3"), (method.CORRIDOR_CEILING, "6 3")):
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y(level)}" y2="{y(level)}" stroke="#555" '
            f'stroke-dasharray="{dash}"/><text x="{width - pad + 2}" y="{y(level)}" font-size="10">{level}%</text>'
        )
    parts.append(f'<polyline points="{line}" fill="none" stroke="#0b5d3b" stroke-width="2"/>')
    for x, (label, v) in zip(xs, points, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y(v)}" r="3" fill="#0b5d3b"/>')
        if len(points) <= 8 or label.endswith("Q1"):
            shown = Markup.escape(quarter_label(label))
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="9" text-anchor="middle">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def calculation(args: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
    """Run the reader's calculator from query arguments; return (result, names of fields that are wrong)."""
    if not any(args.get(k) for k in ("amount", "fee", "rate")):
        return None, []
    values = {k: method.reader_number(args.get(k, "")) for k in ("amount", "fee", "rate", "interbank")}
    wrong = [k for k in ("amount", "fee", "rate") if values[k] is None]
    if args.get("interbank") and values["interbank"] is None:
        wrong.append("interbank")
    if wrong:
        return None, wrong
    try:
        found = method.quote(
            values["amount"], values["fee"], values["rate"], values["interbank"],  # type: ignore[arg-type]
            fee_on_top=args.get("fee_mode", "top") != "taken",
        )  # fmt: skip
    except ValueError:
        return None, ["amount", "fee", "rate"]
    return {"quote": found, "values": values}, []


@bp.get("/<lang>/remittances/")
def index() -> ResponseReturnValue:
    db = store.get_db()
    senders, receivers = prices.countries(db, g.lang)
    chosen = {k: request.args.get(k, "")[:3].upper() for k in ("from", "to")}
    missing = False
    if chosen["from"] and chosen["to"]:
        key = f"{chosen['from']}-{chosen['to']}"
        if prices.corridor(db, key, g.lang) is not None:
            amount = request.args.get("amount", "")[:20] or None
            return redirect(url_for("remittances.corridor", key=key, amount=amount))
        missing = True
    query = request.args.get("q", "")[:100]
    langs = [x["code"] for x in site_languages()]
    found = prices.find_corridors(db, query, langs, g.lang) if query else None
    return render_template(
        "remittances/index.html", senders=senders, receivers=receivers, chosen=chosen, missing=missing,
        corridors=prices.corridors(db, g.lang), query=query, found=found, source=prices.source(db),
    )  # fmt: skip


@bp.get("/<lang>/remittances/<key>")
def corridor(key: str) -> ResponseReturnValue:
    db = store.get_db()
    found = prices.corridor(db, key, g.lang)
    if found is None:
        abort(404)
    args = {k: request.args.get(k, "")[:30] for k in ("amount", "fee", "rate", "interbank", "fee_mode")}
    result, wrong = calculation(args)
    return render_template(
        "remittances/corridor.html", c=found, age=age(found["newest"], today()), source=prices.source(db),
        args=args, result=result, wrong=wrong, chart=chart, method=method,
    )  # fmt: skip


@bp.get("/<lang>/remittances/<key>/pack.html")
def pack(key: str) -> Response:
    """Send a corridor's comparison as one HTML file: no script, no outside request, readable without internet."""
    db = store.get_db()
    found = prices.corridor(db, key, g.lang)
    if found is None:
        abort(404)
    css, style_hash = packs.pack_css()
    csp = packs.content_security_policy(style_hash)
    on = today()
    html = render_template(
        "remittances/pack.html", c=found, age=age(found["newest"], on), source=prices.source(db), chart=chart,
        method=method, css=css, csp=csp, made=on.isoformat(),
    )  # fmt: skip
    response = Response(html, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="waypost-{g.lang}-{found["corridor"]}.html"'
    response.headers["Content-Security-Policy"] = csp
    return response
