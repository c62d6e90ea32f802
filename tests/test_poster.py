"""The printable poster: the kiosk's address as a QR code, on one A4 page in every language."""

from __future__ import annotations

import re

import pytest

from .helpers import LANGUAGES, shown
from .live import ARTIFACTS, LAUNCH, require_chromium, serving

PUBLIC = "https://guide.example.org/"


def test_the_poster_shows_the_configured_address_as_a_qr_code_never_the_host_header(make_app):
    client = make_app(PUBLIC_URL=PUBLIC).test_client()
    html = client.get("/fr/poster", headers={"Host": "evil.example.net"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in html
    assert '<svg role="img"' in html and f"{PUBLIC}</title>" in html
    assert f'<p class="address" dir="ltr" lang="en">{PUBLIC}</p>' in html
    assert "evil.example.net" not in html
    assert (
        shown("Or tap “Save for offline”: the pages then open in your browser without internet.", "fr") in html
    )  # an https address: the service worker works there


def test_without_public_url_the_poster_uses_the_address_serve_found_or_says_it_has_none(make_app):
    app = make_app()
    unknown = app.test_client().get("/en/poster", headers={"Host": "192.0.2.9:8000"}).get_data(as_text=True)
    assert "<svg" not in unknown and "192.0.2.9" not in unknown
    assert "does not know its address yet" in unknown
    # `serve` gives the app the addresses it found as a setting (a new app here: pages are cached).
    app = make_app(SERVED_ADDRESSES=["http://192.0.2.2:8000/"])
    found = app.test_client().get("/en/poster").get_data(as_text=True)
    assert '<p class="address" dir="ltr" lang="en">http://192.0.2.2:8000/</p>' in found
    # Plain HTTP has no service worker: only the packs are offered.
    assert "Save for offline" not in found and "Download this topic as one file" in found


@pytest.mark.parametrize("url", ["/xx/poster", "/en/poster/", "/en/poster?q=%00"])
def test_strange_poster_addresses_are_pages_not_errors(make_app, url):
    assert make_app(PUBLIC_URL=PUBLIC).test_client().get(url).status_code in (200, 308, 404)


def pdf_pages(pdf: bytes) -> int:
    """Count the page objects of a PDF (Chromium writes its page dictionaries uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.browser
@pytest.mark.slow
def test_the_poster_prints_on_one_a4_page_in_every_language(make_app):
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(make_app(PUBLIC_URL=PUBLIC)) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        # A4 at 96 dpi; the screenshot shows what prints (page.pdf prints with print media anyway,
        # but an explicit "screen" emulation would override that).
        page = browser.new_context(java_script_enabled=False, viewport={"width": 794, "height": 1123}).new_page()
        page.emulate_media(media="print")
        for lang in LANGUAGES:
            page.goto(f"{url}/{lang}/poster")
            pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
            (ARTIFACTS / f"poster-{lang}.pdf").write_bytes(pdf)
            assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1, lang
            page.screenshot(path=str(ARTIFACTS / f"poster-{lang}.png"), full_page=True)
            qr = page.locator(".qr svg").bounding_box()
            assert qr is not None and qr["width"] > 200  # about 75 mm: a phone finds it across a room
        browser.close()
