"""Offline on phones, in a real browser: the service worker, saved topics, updates, packs.

Debian's Chromium, driven by Playwright, against a real loopback server; the
worker runs because 127.0.0.1 counts as a secure origin.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from app.bundle.build import build_bundle
from app.bundle.search import fold, query_terms
from app.content.load import load_content
from app.web import create_app

from .helpers import write_content
from .live import ARTIFACTS, LAUNCH, require_chromium, wait_for_worker, wait_until
from .live import phone as phone_profile
from .live import serving as serving_app

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")


def serving(bundle: Path):
    """Serve a bundle on a loopback port for as long as the block runs."""
    return serving_app(create_app({"TESTING": True, "BUNDLE": str(bundle)}))


def build(content: Path, out: Path) -> Path:
    """Build a content folder into a bundle at out, replacing it atomically."""
    loaded = load_content(content)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    build_bundle(loaded, out)
    return out


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Path:
    return write_content(tmp_path_factory.mktemp("offline") / "content")


@pytest.fixture(scope="module")
def site(content, tmp_path_factory):
    """One server over an unchanging bundle, shared by the tests that only read."""
    with serving(build(content, tmp_path_factory.mktemp("bundle") / "live.bundle")) as url:
        yield url


@pytest.fixture(scope="module")
def playwright(site):
    # Depending on site makes every browser close, with its connections, before the server stops.
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(**LAUNCH)
    yield browser
    browser.close()


def phone(browser, **options):
    """A phone profile with service workers allowed."""
    return phone_profile(browser, **{"service_workers": "allow", **options})


def save_topic(page, url: str) -> list[list[int]]:
    """Save a topic with its button; return the progress shown, as [done, total] steps."""
    page.goto(url)
    wait_for_worker(page)
    progress = page.locator("#wp-save progress")
    assert progress.is_hidden()
    page.evaluate(
        """() => {
            window.steps = [];
            const bar = document.querySelector('#wp-save progress');
            new MutationObserver(() => bar.hidden || window.steps.push([bar.value, bar.max]))
                .observe(document.getElementById('wp-save-status'), {childList: true});
        }"""
    )
    page.locator("#wp-save button").click()
    # The "saved" message, in the page's language, as the server rendered it.
    saved = page.evaluate(
        "document.querySelector('#wp-save template[data-message=saved]').content.firstChild.textContent.trim()"
    )
    page.locator("#wp-save-status").get_by_text(saved).wait_for()
    assert progress.is_hidden()
    # The language's offline page is fetched in the background, on install or on the first page.
    lang = url.split("/")[3]
    wait_until(page, f"() => caches.match('/{lang}/offline')")
    return page.evaluate("window.steps")


def cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def test_the_worker_registers_and_controls_the_page(browser, site):
    with phone(browser) as (context, page):
        page.goto(f"{site}/en/")
        wait_for_worker(page)
        worker = page.evaluate(
            """async () => {
                const registration = await navigator.serviceWorker.ready;
                return {scope: registration.scope, script: navigator.serviceWorker.controller.scriptURL};
            }"""
        )
        assert worker == {"scope": f"{site}/", "script": f"{site}/sw.js"}
        version = context.request.get(f"{site}/api/v1/status").json()
        names = cache_names(page)
        expected = f"waypost-shell-{version['version']}-{version['content_digest'][:12]}"
        assert expected in names and all(name.startswith("waypost-") for name in names)
        shell = page.evaluate(f"caches.open('{expected}').then(c => c.keys()).then(k => k.map(r => r.url))")
        assert {f"{site}/en/", f"{site}/en/offline", f"{site}/en/offline-search"} <= set(shell)
        assert any(url.endswith("/waypost.css") for url in shell)


def search_page(page) -> dict:
    return page.evaluate(
        """() => ({
            query: document.getElementById('q').value,
            count: document.querySelector('p[role=status]')?.textContent,
            // Whitespace between tags differs between the server's template and the worker's.
            results: document.querySelector('ol.results')?.outerHTML.replace(/>\\s+</g, '><'),
        })"""
    )


def test_a_saved_topic_reads_offline_and_search_answers_from_it(browser, site):
    ARTIFACTS.mkdir(exist_ok=True)
    # Folded Arabic that finds كَتَبَ, and an English article shown in Arabic pages.
    searches = ["كتب", "rights 2"]
    with phone(browser) as (context, page):
        online = {}
        for query in searches:
            page.goto(f"{site}/ar/search?q={query}")
            online[query] = search_page(page)
        page.goto(f"{site}/ar/offline")
        offline_heading = page.locator("h1").inner_text()
        page.goto(f"{site}/ar/glossary")
        glossary_heading = page.locator("h1").inner_text()
        # The topic page, then its two articles, one at a time, then the glossary they link to.
        assert save_topic(page, f"{site}/ar/rights/") == [[1, 4], [2, 4], [3, 4], [4, 4]]
        # Nothing read so far is kept automatically, so only saving can make pages readable offline.
        page.evaluate(
            "caches.keys().then(n => Promise.all(n.filter(x => x.includes('-pages-')).map(x => caches.delete(x))))"
        )
        context.set_offline(True)

        page.goto(f"{site}/ar/rights/rights-1")
        assert page.locator("article h1").inner_text() == "ar rights one"
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        page.locator("#wp-notice .notice").wait_for()
        assert "{date}" not in page.locator("#wp-notice").inner_text()
        page.screenshot(path=ARTIFACTS / "offline-ar-article-360.png")
        # The article's glossary link opens the saved glossary, at its entry.
        page.locator(".body a[href*='glossary#passport']").first.click()
        page.wait_for_url("**/ar/glossary#passport")
        assert page.locator("h1").inner_text() == glossary_heading
        assert page.locator("#passport").is_visible()

        page.goto(f"{site}/ar/money/money-1")  # never saved, never read
        assert page.locator("h1").inner_text() == offline_heading  # the offline page, in Arabic
        saved = page.locator("[data-saved-list] li a")
        saved.first.wait_for()
        assert saved.all_inner_texts() == ["Rights (ar)"]
        page.screenshot(path=ARTIFACTS / "offline-ar-offline-page-360.png")

        for query in searches:
            page.goto(f"{site}/ar/search?q={query}")
            assert page.locator(".notice").count() == 1  # says the results come from saved topics
            offline = search_page(page)
            assert offline == online[query] and offline["results"].count("<li") == 1, query
        assert "<mark>كَتَبَ</mark>" in online[searches[0]]["results"]

        context.set_offline(False)
        page.goto(f"{site}/ar/saved")
        item = page.locator("[data-saved-list] li")
        item.first.wait_for()
        item.locator("button").click()
        page.locator("[data-saved-empty]").wait_for()
        assert page.locator("[data-saved-list] li").count() == 0


class Gates:
    """WSGI middleware holding the answers to chosen paths until the test opens their gate."""

    def __init__(self, app, paths: list[str]) -> None:
        self.app = app
        self.asked = {path: threading.Event() for path in paths}
        self.open = {path: threading.Event() for path in paths}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in self.open:
            self.asked[path].set()
            assert self.open[path].wait(60), f"{path} was never let through"
        return self.app(environ, start_response)


def test_a_page_still_loading_when_the_worker_activates_gets_its_language_offline(browser, content, tmp_path):
    # A reader on a slow link opens a page in English, then switches to Arabic while the worker installs.
    # The worker claims the pages open when it activates, and Chromium leaves out one whose navigation is
    # under way: that page must still greet the worker, which then keeps Arabic's offline pages.
    app = create_app({"TESTING": True, "BUNDLE": str(build(content, tmp_path / "live.bundle"))})
    gates = Gates(app.wsgi_app, ["/uk/offline", "/ar/"])  # one page the install fetches, and the Arabic home
    app.wsgi_app = gates  # type: ignore[method-assign]
    with serving_app(app) as url, phone(browser) as (context, page):
        watcher = context.new_page()
        watcher.goto(f"{url}/en/offline")
        page.goto(f"{url}/en/")
        assert gates.asked["/uk/offline"].wait(60)  # the worker is installing, held on one of its pages
        page.evaluate("setTimeout(() => { location.href = '/ar/'; })")
        assert gates.asked["/ar/"].wait(60)  # the navigation has reached the server
        gates.open["/uk/offline"].set()
        wait_until(watcher, "() => navigator.serviceWorker.ready.then(r => r.active.state === 'activated')")
        gates.open["/ar/"].set()
        page.wait_for_url(f"{url}/ar/")
        wait_until(page, "() => caches.match('/ar/offline-search')", timeout_ms=30_000)
        shell = page.evaluate("caches.keys().then(n => caches.open(n.find(x => x.includes('-shell-'))))"
                              ".then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))")  # fmt: skip
        assert {"/ar/", "/ar/saved", "/ar/offline-search"} <= set(shell)


def test_a_new_bundle_reaches_saved_pages(browser, content, tmp_path):
    live = build(content, tmp_path / "live.bundle")
    with serving(live) as url, phone(browser) as (context, page):
        save_topic(page, f"{url}/en/money/")
        old = cache_names(page)
        switch_bundle(content, live, tmp_path)
        page.evaluate("navigator.serviceWorker.ready.then(r => r.update())")
        page.get_by_text("New guidance has arrived.").wait_for()
        # Activation drops the old version's caches, and the refresh the old copies of the saved topic;
        # the reader's settings stay, under a name with no version. Only Waypost's own caches exist here.
        versioned = [name for name in old if name != "waypost-settings"]
        assert any("-saved-" in name for name in versioned)
        wait_until(page, "old => caches.keys().then(names => !names.some(n => old.includes(n)))", versioned)
        new = cache_names(page)
        assert {name.rsplit("-", 1)[0] for name in new} == {name.rsplit("-", 1)[0] for name in old}
        context.set_offline(True)
        page.goto(f"{url}/en/money/money-1")
        assert page.locator("article h1").inner_text() == "Guide money 1, revised"


def test_with_save_data_saved_pages_wait_until_the_reader_asks(browser, content, tmp_path):
    live = build(content, tmp_path / "live.bundle")
    with serving(live) as url, phone(browser) as (context, page):
        save_topic(page, f"{url}/en/money/")
        context.new_cdp_session(page).send("Emulation.setDataSaverOverride", {"dataSaverEnabled": True})
        assert page.evaluate("navigator.connection.saveData") is True
        switch_bundle(content, live, tmp_path)
        page.evaluate("navigator.serviceWorker.ready.then(r => r.update())")
        page.get_by_text("New guidance is available.").wait_for()
        context.set_offline(True)
        page.goto(f"{url}/en/money/money-1")
        assert page.locator("article h1").inner_text() == "Guide money 1"  # the old copy, kept
        context.set_offline(False)
        page.goto(f"{url}/en/money/")
        page.get_by_text("New guidance is available.").wait_for()
        page.get_by_role("button", name="Refresh saved pages").click()
        page.get_by_text("New guidance has arrived.").wait_for()
        context.set_offline(True)
        page.goto(f"{url}/en/money/money-1")
        assert page.locator("article h1").inner_text() == "Guide money 1, revised"


def test_a_refresh_that_fails_is_reported_and_keeps_the_old_copies(browser, content, tmp_path):
    live = build(content, tmp_path / "live.bundle")
    with serving(live) as url, phone(browser) as (context, page):
        save_topic(page, f"{url}/en/money/")
        context.new_cdp_session(page).send("Emulation.setDataSaverOverride", {"dataSaverEnabled": True})
        switch_bundle(content, live, tmp_path)
        page.evaluate("navigator.serviceWorker.ready.then(r => r.update())")
        page.get_by_text("New guidance is available.").wait_for()
        context.set_offline(True)  # the link drops just as the reader asks
        page.get_by_role("button", name="Refresh saved pages").click()
        page.get_by_text("Your saved pages could not be updated").wait_for()
        assert page.get_by_role("button", name="Try again").is_visible()
        page.goto(f"{url}/en/money/money-1")
        assert page.locator("article h1").inner_text() == "Guide money 1"  # the old copy, kept


def switch_bundle(content: Path, live: Path, tmp_path: Path) -> None:
    """Change an article's title and put the rebuilt bundle in place, as an update would."""
    changed = tmp_path / "changed"
    shutil.copytree(content, changed)
    article = changed / "articles" / "en" / "money-1.md"
    article.write_text(article.read_text().replace("title: Guide money 1", "title: Guide money 1, revised"))
    os.replace(build(changed, tmp_path / "next.bundle"), live)


def test_the_manifest_is_valid_and_the_site_installable(playwright, site, tmp_path):
    # Chromium never offers to install from an incognito profile, so this one is kept on disk.
    context = playwright.chromium.launch_persistent_context(tmp_path / "profile", **LAUNCH, service_workers="allow")
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{site}/fa/")
        wait_for_worker(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == f"{site}/fa/manifest.webmanifest"
        assert manifest["errors"] == []
        data = context.request.get(manifest["url"]).json()
        assert data["name"] and data["short_name"] == "Waypost"
        assert (data["lang"], data["dir"], data["display"]) == ("fa", "rtl", "standalone")
        assert data["start_url"] == "/fa/" and data["start_url"].startswith(data["scope"])
        for icon in data["icons"]:
            response = context.request.get(site + icon["src"])
            assert response.ok and response.headers["content-type"] == "image/png"
            width = int.from_bytes(response.body()[16:20], "big")  # from the PNG header
            assert icon["sizes"] == f"{width}x{width}"
        assert {(icon["sizes"], icon["purpose"]) for icon in data["icons"]} == {
            ("192x192", "any"),
            ("512x512", "any"),
            ("512x512", "maskable"),
        }
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()


def test_a_downloaded_pack_opens_from_a_file_without_network_or_script(browser, site, tmp_path):
    with phone(browser) as (context, page):
        page.goto(f"{site}/ar/rights/")
        with page.expect_download() as download:
            page.locator("a[href$='/pack.html']").click()
        assert download.value.suggested_filename == "waypost-ar-rights.html"
        pack = tmp_path / download.value.suggested_filename
        download.value.save_as(pack)
    with phone(browser, java_script_enabled=False) as (context, page):
        requested = []
        context.on("request", lambda request: requested.append(request.url))
        page.goto(pack.as_uri())
        assert requested == [pack.as_uri()]
        assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
        assert page.locator("article").count() == 2
        assert page.locator("nav.toc li a").all_inner_texts()[:2] == page.locator("article h2").all_inner_texts()
        # The inline stylesheet is allowed by its hash, so the site's look holds.
        assert page.evaluate("getComputedStyle(document.querySelector('.brand')).color") == "rgb(11, 93, 59)"
        page.locator("nav.toc a").first.click()
        assert page.url.startswith(pack.as_uri() + "#")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/en/money/", "Download this topic as one file"),
        ("/ar/saved", "Money (ar)"),
        ("/fa/rights/rights-1", "fa rights one"),
    ],
)
def test_without_service_workers_a_page_reads_as_with_javascript_off(browser, site, path, shown):
    def visible_text(**options) -> str:
        with phone(browser, **options) as (context, page):
            errors = []
            page.on("pageerror", lambda error: errors.append(error))
            page.goto(site + path)
            # Until the network is quiet: the scripts have done all they would do.
            page.wait_for_load_state("networkidle")
            assert errors == []
            return page.locator("body").inner_text()

    blocked = visible_text(service_workers="block")
    assert blocked == visible_text(java_script_enabled=False)
    assert shown in blocked and "Save for offline" not in blocked


# Straße, İstanbul and the Greek final sigma are where toLowerCase() and casefold() part.
FOLDING = [
    "Résumé",
    "كَتَبَ",
    "يكتب كتاب",
    "مدرسة",
    "می‌خواهم",
    "١٢٣ ۴۵۶",
    "ÉCOLE naïve",
    "Україна",
    "ـسلامـ",
    "STRASSE Straße",
    "İstanbul ISTANBUL",
    "ΟΔΥΣΣΕΥΣ Ὀδυσσεύς",
    "ᾳδης ᏸ",
]


def test_offline_search_folds_text_as_the_server_does(browser, site):
    with phone(browser) as (context, page):
        page.goto(f"{site}/en/")
        url = page.evaluate("fetch('/sw.js').then(r => r.text())").split("importScripts(")[1].split(")")[0]
        page.add_script_tag(url=url.strip('"'))  # the worker's own search script, run in the page
        folded = page.evaluate("texts => texts.map(t => [WaypostSearch.fold(t), WaypostSearch.terms(t)])", FOLDING)
        assert folded == [[fold(text), query_terms(text)] for text in FOLDING]
