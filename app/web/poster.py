"""A printable A4 poster: the kiosk's address as a QR code, what Waypost is, how to keep pages.

The address comes from the operator: PUBLIC_URL, or else the first network
address `waypost serve` found on this machine (SERVED_ADDRESSES). Never from
the request's Host header, which any client can set: a poster printed from a
forged request would send every reader to someone else's site.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext

from app.web.pages import localise
from app.web.qr import qr_svg

bp = Blueprint("poster", __name__)
localise(bp)


def poster_address() -> str | None:
    """Return the address readers should open, as the operator configured it (None when unknown)."""
    public = current_app.config.get("PUBLIC_URL") or ""
    if public:
        return public
    served = current_app.config.get("SERVED_ADDRESSES") or []
    return served[0] if served else None


@bp.get("/<lang>/poster")
def poster() -> str:
    address = poster_address()
    qr = qr_svg(address, title=gettext("QR code of %(address)s", address=address), scale=8) if address else None
    secure = bool(address and address.startswith("https://"))
    return render_template("kiosk/poster.html", address=address, qr=qr, secure=secure)
