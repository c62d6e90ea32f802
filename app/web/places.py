"""Local help pages: places, their emergency numbers, their services, a place pack and an A4 poster.

A place's "today" is the date on the kiosk's clock in the place's own time
zone (`kiosk_state.now()` converted with zoneinfo), never earlier than the
last date the kiosk's guidance was confirmed: a kiosk that booted in 1970
still highlights a plausible day. Pages that show today's hours are cached
for five minutes only, so the highlight moves at midnight.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import Blueprint, Response, abort, current_app, g, make_response, render_template, request
from flask_babel import format_date, lazy_gettext

from app import kiosk_state
from app.bundle import place_tree
from app.bundle import places as local
from app.bundle import read as bundle
from app.categories import CATEGORIES
from app.web import delivery, packs, store
from app.web.cache import uncacheable
from app.web.pages import language, localise
from app.web.qr import qr_svg

bp = Blueprint("places", __name__)
localise(bp)

CATEGORY_NAMES = {
    "legal-aid": lazy_gettext("Legal help"),
    "health": lazy_gettext("Health"),
    "mental-health": lazy_gettext("Mental health"),
    "shelter": lazy_gettext("A place to sleep"),
    "food": lazy_gettext("Food"),
    "money": lazy_gettext("Money"),
    "work": lazy_gettext("Work"),
    "language-classes": lazy_gettext("Learning the language"),
    "children": lazy_gettext("Children"),
    "womens-safety": lazy_gettext("Women's safety"),
    "documents": lazy_gettext("Documents and consulates"),
    "charging-internet": lazy_gettext("Phone charging and internet"),
    "other": lazy_gettext("Other help"),
}
INLINE = 8  # services listed per category on the place page; more are on the category's own pages
STALE_DAYS = 183
# Own names of ISO 639-3 languages CLDR files under another code (all written right to left).
OWN_NAMES = {"prs": "دری", "pbt": "پښتو", "pes": "فارسی", "apc": "العربية الشامية", "arz": "مصرى", "ary": "الدارجة"}


def place_today(zone: str) -> date:
    """Return today's date in a place's time zone, never earlier than the kiosk's last confirmed date."""
    local_day = kiosk_state.now().astimezone(ZoneInfo(zone)).date()
    built = kiosk_state.parse_date(bundle.meta(store.get_db()).get("built_at"))
    floor = kiosk_state.confirmed_on(Path(current_app.config["BUNDLE"]), built)
    return max(local_day, floor) if floor else local_day


def spoken(code: str) -> dict[str, str]:
    """Return a spoken language's name in its own script, with its lang and dir."""
    try:
        loc = Locale.parse(code.replace("-", "_"))
        return {"code": code, "name": loc.get_display_name(loc) or code,
                "dir": "rtl" if loc.character_order == "right-to-left" else "ltr"}  # fmt: skip
    except (UnknownLocaleError, ValueError, TypeError):
        if code in OWN_NAMES:
            return {"code": code, "name": OWN_NAMES[code], "dir": "rtl"}
        name = Locale("en").languages.get(code, code)
        return {"code": "en" if name != code else code, "name": name, "dir": "ltr"}


@bp.app_template_filter("weekday")
def weekday(iso: str) -> str:
    """Name a date with its weekday in the reader's language, as CLDR writes it ("Thursday, 3 December 2026")."""
    return format_date(date.fromisoformat(iso), format="full")


@bp.app_context_processor
def place_context() -> dict:
    return {"category_name": lambda c: CATEGORY_NAMES.get(c, c), "spoken": spoken, "content_language": language}


def _place(place_id: str) -> dict:
    found = local.place(store.get_db(), place_id, g.lang, store.source_language())
    if found is None:
        abort(404)
    return found


def _grouped(place: dict, limit: int | None) -> list[dict]:
    db, source = store.get_db(), store.source_language()
    groups = []
    for category in CATEGORIES:
        count = place["counts"].get(category, 0)
        if count:
            found = local.services(db, place["id"], g.lang, source, category, limit=limit)
            groups.append({"id": category, "count": count, "services": found})
    return groups


def _category_rank(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def _short_lived(html: str) -> Response:
    # Today's hours are in the place's own zone, whose midnight is not the UTC date
    # the response cache is keyed by: computed for every request.
    uncacheable()
    response = make_response(html)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/<lang>/places/")
def index() -> str:
    found = local.places(store.get_db(), g.lang, store.source_language())
    return render_template("places/index.html", places=place_tree.tree(found))


@bp.get("/<lang>/places/<place_id>/")
def place(place_id: str) -> Response:
    found = _place(place_id)
    html = render_template("places/place.html", place=found, groups=_grouped(found, INLINE), inline=INLINE)
    response = make_response(html)
    # "Near me" (static/near.js) may ask this page's own origin for the phone's position; see ARCHITECTURE.md.
    response.headers["Permissions-Policy"] = delivery.permissions_policy("geolocation")
    return response


@bp.get("/<lang>/places/<place_id>/in/<category>")
def category(place_id: str, category: str) -> str:
    found = _place(place_id)
    if category not in found["counts"]:
        abort(404)
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
    listed = local.services(store.get_db(), place_id, g.lang, store.source_language(), category,
                            limit=local.PAGE_SIZE, offset=(number - 1) * local.PAGE_SIZE)  # fmt: skip
    if not listed and number > 1:
        abort(404)
    pages = -(-found["counts"][category] // local.PAGE_SIZE)
    return render_template("places/category.html", place=found, category=category, services=listed,
                           page=number, pages=pages)  # fmt: skip


@bp.get("/<lang>/places/<place_id>/services/<service_id>")
def service(place_id: str, service_id: str) -> Response:
    found = _place(place_id)
    today = place_today(found["timezone"])
    item = local.service(store.get_db(), place_id, service_id, g.lang, today)
    if item is None:
        abort(404)
    stale = item["checked"] is not None and (today - date.fromisoformat(item["checked"])).days > STALE_DAYS
    return _short_lived(render_template("places/service.html", place=found, service=item, stale=stale))


@bp.get("/<lang>/places/<place_id>/pack.html")
def pack(place_id: str) -> Response:
    """Return the place as one HTML file: emergency numbers, every service in full, no script."""
    found = _place(place_id)
    uncacheable()  # dated by the place's own today, like the service pages
    today = place_today(found["timezone"])
    db = store.get_db()
    # In the place page's order: categories as CATEGORIES lists them, names in order within each (a stable sort).
    stored = sorted(local.raw_services(db, place_id), key=lambda s: _category_rank(s["category"]))
    items = [local.service(db, place_id, s["id"], g.lang, today) for s in stored]
    css, css_hash = packs.pack_css()
    html = render_template("places/pack.html", place=found, services=items, css=css, made=today.isoformat(),
                           csp=packs.content_security_policy(css_hash), site=packs.public_url())  # fmt: skip
    response = make_response(html)
    response.headers["Content-Security-Policy"] = packs.content_security_policy(css_hash)
    response.headers["Content-Disposition"] = f'attachment; filename="waypost-{place_id}-{g.lang}.html"'
    return response


@bp.get("/<lang>/places/<place_id>/poster")
def poster(place_id: str) -> str:
    """Return a printable A4 poster of the emergency numbers and the kiosk's address as a QR code."""
    found = _place(place_id)
    # The operator's PUBLIC_URL, never the request's Host: a poster outlives the request that printed it.
    address = packs.public_url()
    qr = qr_svg(address, title=address) if address else None
    return render_template("places/poster.html", place=found, address=address, qr=qr)
