"""What only a browser can show: right-to-left layout and pages with JavaScript off.

Runs Debian's Chromium through Playwright against a real loopback server.
"""

from __future__ import annotations

import pytest

from .live import ARTIFACTS, LAUNCH, require_chromium, serving

require_chromium()
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def live_server(make_app):
    with serving(make_app()) as url:
        yield url


@pytest.fixture
def page(live_server):
    # Depending on live_server makes the browser close, and drop its
    # keep-alive connections, before the server shuts down.
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640})
        yield context.new_page()
        browser.close()


def layout(page) -> dict:
    return page.evaluate(
        """() => ({
            direction: getComputedStyle(document.documentElement).direction,
            brandLeft: document.querySelector('.brand').getBoundingClientRect().left,
            bodyIndentStart: document.querySelector('.body ul')
                ? getComputedStyle(document.querySelector('.body ul')).paddingRight : null,
            scrollWidth: document.documentElement.scrollWidth,
        })"""
    )


def test_arabic_pages_are_mirrored_and_fit_a_360px_screen(page, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/ar/rights/rights-1")
    arabic = layout(page)
    page.screenshot(path=ARTIFACTS / "ar-article-360.png", full_page=True)
    page.goto(f"{live_server}/en/rights/rights-1")
    english = layout(page)
    assert arabic["direction"] == "rtl" and english["direction"] == "ltr"
    assert arabic["brandLeft"] > 180 > english["brandLeft"]  # the name sits at the start edge
    assert arabic["scrollWidth"] <= 360 and english["scrollWidth"] <= 360


def test_search_works_with_javascript_off(page, live_server):
    page.goto(f"{live_server}/fr/")
    page.fill("#q", "résumé")
    page.click("button[type=submit]")
    assert page.url.startswith(f"{live_server}/fr/search?q=")
    assert page.locator("ol.results li").count() == 1
    assert page.locator("mark").first.inner_text().startswith("Résumé")


def test_the_page_loads_nothing_from_anywhere_else(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server}/fa/money/money-1")
    assert requested and all(url.startswith(live_server) for url in requested)
