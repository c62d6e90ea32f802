"""Offline search in a real browser: a place saved for offline is searched with its services."""

from __future__ import annotations

import pytest

from .helpers import PLACE_YAML, shown, write_content, write_place
from .live import chromium, require_chromium, serving_content, wait_for_worker, wait_until
from .live import phone as phone_profile

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")
ARABIC_NAME = "عيادة قانونية مجانية"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline-services")
    content_dir = write_content(folder / "content")
    place = write_place(content_dir, place_yaml="sample: true\n" + PLACE_YAML)
    (place / "services" / "translations").mkdir()
    (place / "services" / "translations" / "ar.csv").write_text(
        f"id,name,description\nsvc-1,{ARABIC_NAME},نصيحة مجانية.\n", encoding="utf-8"
    )
    with serving_content(content_dir, folder / "live.bundle") as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as launched:
        yield launched


def phone(browser, **options):
    """A phone profile with service workers allowed."""
    return phone_profile(browser, **{"service_workers": "allow", **options})


def save_place_and_go_offline(context, page, site: str, lang: str) -> None:
    """Save the test place for offline reading from its page in lang, then cut the phone's connection."""
    page.goto(f"{site}/{lang}/places/testville/")
    wait_for_worker(page)
    wait_until(page, f"() => caches.match('/{lang}/offline-search')")
    page.locator("#wp-save button").click()
    saved = page.evaluate(
        "document.querySelector('#wp-save template[data-message=saved]').content.firstChild.textContent.trim()"
    )
    page.locator("#wp-save-status").get_by_text(saved).wait_for()
    context.set_offline(True)


def test_the_search_page_shows_local_help_with_javascript_off(browser, site):
    with phone(browser, java_script_enabled=False) as (_context, page):
        page.goto(f"{site}/fr/search?q=food")
        food = page.locator("ol.results a[href='/fr/places/testville/services/svc-2']")
        assert food.is_visible() and food.evaluate("a => getComputedStyle(a).direction") == "ltr"
        assert food.get_attribute("lang") == "en"
        page.goto(f"{site}/ar/search?q=قانونيه")
        legal = page.locator("ol.results a[href='/ar/places/testville/services/svc-1']")
        assert legal.inner_text() == ARABIC_NAME and legal.evaluate("a => getComputedStyle(a).direction") == "rtl"


def test_offline_search_finds_the_services_of_a_saved_place(browser, site):
    with phone(browser) as (context, page):
        save_place_and_go_offline(context, page, site, "ar")
        # Teh marbuta typed as heh: folded as online.
        page.goto(f"{site}/ar/search?q=قانونيه")
        offline = shown("You are offline. These results come only from the topics saved on this phone.", "ar")
        assert offline in page.locator(".notice").first.inner_html()
        link = page.locator("ol.results a[href='/ar/places/testville/services/svc-1']")
        assert link.inner_text() == ARABIC_NAME and link.get_attribute("lang") == "ar"
        assert page.locator("h2").all_inner_texts() == [shown("Local help", "ar")]
        # The sample place's notice, once, above its services.
        assert page.locator("p.notice.warning").count() == 1
        # An English-only service, found from the Arabic page, keeps its own lang and dir.
        page.goto(f"{site}/ar/search?q=food")
        food = page.locator("ol.results a[href='/ar/places/testville/services/svc-2']")
        assert food.inner_text() == "Food bank"
        assert (food.get_attribute("lang"), food.get_attribute("dir")) == ("en", "ltr")
        assert page.locator("ol.results li").count() == 1


def test_offline_search_shows_as_many_services_as_online(browser, tmp_path):
    content_dir = write_content(tmp_path / "content")
    write_place(content_dir, place_yaml="sample: true\n" + PLACE_YAML)
    with serving_content(content_dir, tmp_path / "live.bundle", config={"SEARCH_RESULTS": 1}) as url:
        with phone(browser) as (context, page):
            page.goto(f"{url}/en/search?q=f")  # "Free advice" and "Food bank": both services match
            assert page.locator("ol.results a[href*='/services/']").count() == 1  # online, SEARCH_RESULTS
            save_place_and_go_offline(context, page, url, "en")
            page.goto(f"{url}/en/search?q=f")
            assert "You are offline" in page.locator(".notice").first.inner_text()
            assert page.locator("ol.results a[href*='/services/']").count() == 1
