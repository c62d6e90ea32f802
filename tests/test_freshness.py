"""What readers are told about the age of the guidance: not confirmed for a while, or expired."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from app import kiosk_state
from app.bundle.build import bundle_rows, write_bundle
from app.bundle.schema import seal_meta
from app.content.load import load_content
from app.web import create_app
from app.web.freshness import freshness

from .helpers import must

TODAY = kiosk_state.now().date()


def build(content_dir: Path, out: Path, built: date, expires: date | None = None) -> Path:
    """Build a bundle as if on `built`, signed-looking metadata included when it expires."""
    meta = seal_meta(1, expires, "0123456789abcdef", "test-ngo") if expires else None
    write_bundle(
        bundle_rows(load_content(content_dir)),
        out,
        built_at=f"{built.isoformat()}T12:00:00+00:00",
        seal=(lambda _d, _b: meta) if meta else None,
    )
    return out


def notice(app, path: str, lang: str) -> str:
    html = app.test_client().get(path).get_data(as_text=True)
    start = html.find('<p class="notice" role="status">')
    return "" if start < 0 else html[start : html.index("</p>", start)]


def test_fresh_guidance_shows_no_notice(content_dir, tmp_path):
    app = create_app({"TESTING": True, "BUNDLE": str(build(content_dir, tmp_path / "b.bundle", TODAY))})
    assert notice(app, "/ar/", "ar") == ""


@pytest.mark.parametrize("lang", ["en", "ar", "fa", "uk"])
def test_guidance_not_confirmed_for_a_while_says_when_it_last_was(content_dir, tmp_path, lang):
    built = TODAY - timedelta(days=45)
    app = create_app({"TESTING": True, "BUNDLE": str(build(content_dir, tmp_path / "b.bundle", built))})
    shown = notice(app, f"/{lang}/money/money-1", lang)
    with app.test_request_context(), force_locale(lang):
        from flask_babel import format_date

        expected = gettext(
            "This guidance was last confirmed on %(date)s. Check important facts with an organisation you trust.",
            date=format_date(built, format="long"),
        )
    assert expected in shown


def test_a_sync_that_finds_a_valid_timestamp_confirms_the_guidance_again(content_dir, tmp_path):
    live = build(content_dir, tmp_path / "b.bundle", TODAY - timedelta(days=45))
    kiosk_state.record(live, "sync", True, "up to date", confirmed_on=TODAY - timedelta(days=2))
    app = create_app({"TESTING": True, "BUNDLE": str(live)})
    assert notice(app, "/en/", "en") == ""
    status = app.test_client().get("/api/v1/status").get_json()
    assert status["bundle"]["confirmed_on"] == (TODAY - timedelta(days=2)).isoformat()
    assert status["bundle"]["stale"] is False and status["last_update"]["message"] == "up to date"


def test_an_expired_bundle_tells_readers(content_dir, tmp_path):
    live = build(content_dir, tmp_path / "b.bundle", TODAY - timedelta(days=3), expires=TODAY - timedelta(days=1))
    app = create_app({"TESTING": True, "BUNDLE": str(live)})
    assert "expired on" in notice(app, "/en/", "en")
    assert app.test_client().get("/api/v1/status").get_json()["bundle"]["expired"] is True


def test_today_is_never_earlier_than_a_date_the_kiosk_has_seen_signed(content_dir, tmp_path):
    # A kiosk whose clock is behind (a Raspberry Pi with no network at boot) still counts from the signed date.
    future = TODAY + timedelta(days=400)
    live = build(content_dir, tmp_path / "b.bundle", TODAY)
    kiosk_state.record(live, "sync", True, "up to date", confirmed_on=future)
    found = freshness(live, {"built_at": TODAY.isoformat()}, 30)
    assert found.today == future and not found.stale
    assert must(found.confirmed_on) == future
