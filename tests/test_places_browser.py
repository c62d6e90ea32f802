"""Local help in a real browser: the place pack with JavaScript off, and a place saved for offline reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import shown, write_content, write_place
from .live import chromium, phone, require_chromium, serving_content, wait_for_worker

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("places")
    content_dir = write_content(folder / "content")
    write_place(content_dir)
    with serving_content(content_dir, folder / "live.bundle") as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as launched:
        yield launched


def test_the_place_pack_reads_with_javascript_off_and_asks_for_nothing(browser, site, tmp_path):
    with phone(browser, accept_downloads=True) as (_context, page):
        page.goto(f"{site}/ar/places/testville/")
        with page.expect_download() as download:
            page.get_by_role("link", name=shown("Download this place as one file", "ar")).click()
        saved = tmp_path / "pack.html"
        download.value.save_as(saved)
    requests: list[str] = []
    with phone(browser, java_script_enabled=False) as (_context, page):
        page.on("request", lambda r: requests.append(r.url))
        page.goto(Path(saved).as_uri())
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.locator("a[href='tel:112']").is_visible()
        assert page.locator("article.pack h2").all_inner_texts() == ["Food bank", "Legal clinic"]
        assert page.locator("article.pack h2").first.get_attribute("lang") == "en"
        page.locator("a[href='#s-2']").click()
        assert page.evaluate("location.hash") == "#s-2"
    assert requests == [Path(saved).as_uri()]


def test_a_saved_place_reads_offline(browser, site):
    with phone(browser, service_workers="allow") as (context, page):
        page.goto(f"{site}/en/places/testville/")
        wait_for_worker(page)
        page.locator("#wp-save button").wait_for()
        page.locator("#wp-save button").click()
        saved = page.evaluate(
            "document.querySelector('#wp-save template[data-message=saved]').content.firstChild.textContent.trim()"
        )
        page.locator("#wp-save-status").get_by_text(saved).wait_for()
        # Only the reader's "Save" may make these pages readable offline: drop what was kept on the way.
        page.evaluate(
            "caches.keys().then(n => Promise.all(n.filter(x => x.includes('-pages-')).map(x => caches.delete(x))))"
        )
        context.set_offline(True)
        page.goto(f"{site}/en/places/testville/services/svc-1")
        assert page.locator("h1").inner_text() == "Legal clinic"
        assert page.locator("a[href='tel:+493023125001']").is_visible()
        page.goto(f"{site}/en/places/testville/")
        assert page.locator("a[href='tel:112']").is_visible()
