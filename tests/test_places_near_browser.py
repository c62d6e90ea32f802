""" "Near me" in a real Chromium: sorted on the phone with a granted location; absent with JavaScript off."""

from __future__ import annotations

from datetime import date

import pytest

from .helpers import PLACE_YAML, write_content, write_place
from .live import LAUNCH, phone, require_chromium, serving_content
from .test_places_contact import NEAR

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")
EAST = {"latitude": 52.5001, "longitude": 13.5990}  # next to loc-east, 27 km from loc-west
BY_CATEGORY_THEN_NAME = ["Anchor legal help", "Nowhere legal help", "Zebra legal help", "bread corner", "Food for all"]
NEAREST_FIRST = ["Zebra legal help", "Anchor legal help", "Nowhere legal help", "bread corner", "Food for all"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("near")
    content_dir = write_content(folder / "content")
    write_place(content_dir, place_yaml=PLACE_YAML, files=NEAR)
    # http://127.0.0.1 is a secure context for browsers, as a phone's https:// kiosk is.
    with serving_content(content_dir, folder / "near.bundle", today=date(2026, 12, 1)) as url:
        yield url


@pytest.fixture(scope="module")
def playwright(site):
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    # This module's own Playwright, since one test launches Chromium with other options too.
    launched = playwright.chromium.launch(**LAUNCH)
    yield launched
    launched.close()


def names(page) -> list[str]:
    return page.locator("ul[data-near] > li > a").all_inner_texts()


def test_with_a_granted_location_the_button_sorts_the_nearest_first(browser, site):
    requests: list[str] = []
    with phone(browser, geolocation=EAST, permissions=["geolocation"]) as (_context, page):
        page.goto(f"{site}/en/places/testville/")
        assert names(page) == BY_CATEGORY_THEN_NAME
        button = page.get_by_role("button", name="Show the nearest first")
        button.wait_for()
        assert page.evaluate("window.isSecureContext")
        page.on("request", lambda r: requests.append(r.url))
        # By keyboard: the control is a real button.
        button.focus()
        page.keyboard.press("Enter")
        status = page.locator(".near [role=status]")
        assert status.get_attribute("aria-live") == "polite"
        status.get_by_text("Sorted: the nearest first in each kind of help.").wait_for()
        assert names(page) == NEAREST_FIRST
        distances = page.locator("ul[data-near] .distance").all_inner_texts()
        assert len(distances) == 4 and distances[0].startswith("0") and "27" in distances[1]
        assert page.locator("a[href$='svc-n'] ~ .distance").count() == 0  # no coordinates, no distance
        # Sorting again keeps the order; and the position went nowhere: no request at all after the page.
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        assert names(page) == NEAREST_FIRST
    assert requests == []


def test_with_the_location_refused_the_order_stays_and_the_reader_is_told(browser, site):
    with phone(browser) as (_context, page):
        page.goto(f"{site}/en/places/testville/")
        page.get_by_role("button", name="Show the nearest first").click()
        page.locator(".near [role=status]").get_by_text("Your location is not available").wait_for()
        assert names(page) == BY_CATEGORY_THEN_NAME


def test_other_pages_may_not_ask_for_the_location_even_when_granted(browser, site):
    with phone(browser, geolocation=EAST, permissions=["geolocation"]) as (_context, page):
        page.goto(f"{site}/en/places/testville/services/svc-a")
        code = page.evaluate("new Promise(r => navigator.geolocation.getCurrentPosition(() => r(0), e => r(e.code)))")
        assert code == 1  # PERMISSION_DENIED: the page's Permissions-Policy says geolocation=()


def test_with_javascript_off_there_is_no_button_and_services_are_by_category_then_name(browser, site):
    with phone(browser, java_script_enabled=False, geolocation=EAST, permissions=["geolocation"]) as (_c, page):
        page.goto(f"{site}/en/places/testville/")
        assert page.locator("h3").all_inner_texts()[:2] == ["Legal help", "Food"]
        assert names(page) == BY_CATEGORY_THEN_NAME
        assert page.get_by_role("button", name="Show the nearest first").count() == 0
        assert page.get_by_text("Your location is not sent to anyone").count() == 0


def test_on_a_plain_http_kiosk_address_there_is_no_button(playwright, site):
    # A kiosk's LAN name over http:// is not a secure context: browsers give no position there, so no control.
    port = site.rsplit(":", 1)[1]
    args = [*LAUNCH["args"], "--host-resolver-rules=MAP kiosk.test 127.0.0.1"]
    launched = playwright.chromium.launch(**{**LAUNCH, "args": args})
    try:
        with phone(launched, geolocation=EAST, permissions=["geolocation"]) as (_context, page):
            page.goto(f"http://kiosk.test:{port}/en/places/testville/")
            page.wait_for_load_state("load")
            assert page.evaluate("window.isSecureContext") is False
            assert page.evaluate("document.readyState") == "complete" and names(page) == BY_CATEGORY_THEN_NAME
            assert page.get_by_role("button", name="Show the nearest first").count() == 0
    finally:
        launched.close()
