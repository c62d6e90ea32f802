"""Reading on a real phone, in Chromium: large text at 320 px, forced colours, the dark
scheme, target sizes and focus, offline with no dead ends, and safety on a watched phone.

Debian's Chromium through Playwright, against a real loopback server. axe-core comes
from tests/node_modules (`npm ci --prefix tests`, which scripts/test runs); it is
injected into the page under test, never served by Waypost.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

from .helpers import edit_article, must, write_content
from .live import ARTIFACTS, LAUNCH, require_chromium, serving, wait_for_worker, wait_until

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 15_000
NEUTRAL = "https://neutral.example/"
# Every kind of page, by path; {lang} is filled in.
PAGE_TYPES = ["/{lang}/", "/{lang}/money/", "/{lang}/rights/rights-1", "/{lang}/money/money-1",
              "/{lang}/search?q=copy", "/{lang}/glossary", "/{lang}/saved", "/{lang}/on-this-phone",
              "/{lang}/offline", "/{lang}/money/no-such-page"]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A server over the test content, its emergencies topic and one rights article marked sensitive."""
    content = write_content(tmp_path_factory.mktemp("phone") / "content")
    topics = content / "topics.yaml"
    topics.write_text(topics.read_text().replace("- slug: emergencies\n", "- slug: emergencies\n  sensitive: true\n"))
    edit_article(content, "rights-2", "topic: rights\n", "topic: rights\nsensitive: true\n")
    loaded = load_content(content)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    out = tmp_path_factory.mktemp("bundle") / "live.bundle"
    build_bundle(loaded, out)
    app = create_app({"TESTING": True, "BUNDLE": str(out), "LEAVE_URL": NEUTRAL})
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    # Depending on site makes the browser close, with its connections, before the server stops.
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        yield browser
        browser.close()


@contextlib.contextmanager
def phone(browser, width: int = 320, font_px: int | None = None, **options):
    """Open a fresh profile on a small screen, with the browser's default font size set if asked."""
    options = {"viewport": {"width": width, "height": 640}, **options}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    # The neutral site of "Leave quickly", answered here so that nothing leaves the machine.
    context.route(NEUTRAL + "**", lambda route: route.fulfill(body="<title>Neutral</title>", content_type="text/html"))
    page = context.new_page()
    if font_px:
        # What "Font size: very large" in a phone's browser settings does: the default font, 16 px, doubled.
        context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": font_px, "fixed": font_px}})
    try:
        yield context, page
    finally:
        context.close()


def fits(page) -> dict:
    """Measure what a reader sees on the first screen."""
    return page.evaluate(
        """() => {
            const box = (el) => el && el.getBoundingClientRect();
            const q = box(document.getElementById('q'));
            return {
                scrollWidth: document.documentElement.scrollWidth,
                h1Top: box(document.querySelector('h1')).top,
                query: q ? q.width : null,
                rootFont: parseFloat(getComputedStyle(document.documentElement).fontSize),
            };
        }"""
    )


@pytest.mark.parametrize("lang", ["en", "ar", "fa"])
def test_every_page_fits_320px_with_200_percent_text(browser, site, lang):
    ARTIFACTS.mkdir(exist_ok=True)
    with phone(browser, font_px=32, java_script_enabled=False) as (context, page):
        for path in PAGE_TYPES:
            page.goto(site + path.format(lang=lang))
            seen = fits(page)
            assert seen["rootFont"] == 32, path  # the browser setting reached the page
            assert seen["scrollWidth"] <= 320, (path, seen)  # nothing runs off sideways
            assert seen["h1Top"] < 640 - 48, (path, seen)  # the heading starts on the first screen
            if seen["query"] is not None:
                assert seen["query"] >= 250, (path, seen)  # room to see what is typed
            # The skip link, once focused, sits wholly on the screen.
            page.keyboard.press("Tab")
            skip = page.evaluate(
                "(() => { const r = document.activeElement.getBoundingClientRect();"
                " return [document.activeElement.className, r.left, r.right]; })()"
            )
            assert skip[0] == "skip" and 0 <= skip[1] and skip[2] <= 320, (path, skip)
            page.evaluate("document.activeElement.blur()")
            if (lang, path) == ("ar", "/{lang}/rights/rights-1"):
                page.screenshot(path=ARTIFACTS / "ar-article-320-200pct.png")
            if (lang, path) == ("fa", "/{lang}/search?q=copy"):
                page.fill("#q", "گذرنامه و کارت اقامت")
                page.screenshot(path=ARTIFACTS / "fa-search-320-200pct.png")


@pytest.mark.parametrize("lang", ["en", "ar", "fa"])
def test_an_article_shows_its_title_and_first_paragraph_on_the_first_screen_at_320px(browser, site, lang):
    with phone(browser, java_script_enabled=False) as (context, page):
        page.goto(f"{site}/{lang}/rights/rights-1")
        first = page.evaluate("document.querySelector('.body p').getBoundingClientRect().top")
        assert first < 640 - 40
        if lang == "ar":
            page.screenshot(path=ARTIFACTS / "ar-article-320.png")


def test_the_language_switcher_is_one_control_that_opens_without_javascript(browser, site):
    with phone(browser, java_script_enabled=False) as (context, page):
        page.goto(f"{site}/fa/money/money-1")
        summary = page.locator(".languages summary")
        assert summary.inner_text() == page.evaluate("document.querySelector('.languages a[aria-current]').textContent")
        assert page.locator(".languages a").first.is_hidden()
        summary.click()
        page.locator(".languages a[hreflang=fr]").click()
        page.wait_for_url(f"{site}/fr/money/money-1")


CONTROLS = "button:not([disabled]), input:not([type=hidden]), summary, a.leave"


def test_every_control_keeps_a_visible_border_in_forced_colours(browser, site):
    with phone(browser, forced_colors="active") as (context, page):
        for path in ("/en/", "/ar/money/", "/fa/search?q=copy"):
            page.goto(site + path)
            page.wait_for_function("matchMedia('(forced-colors: active)').matches")
            if path == "/ar/money/":
                page.locator("#wp-save button").wait_for()  # "Save for offline", once the worker runs
            borders = page.evaluate(
                """selector => [...document.querySelectorAll(selector)].filter(el => el.getClientRects().length)
                    .map(el => { const s = getComputedStyle(el);
                        return [el.outerHTML.slice(0, 60), s.borderTopStyle, parseFloat(s.borderTopWidth), s.borderTopColor]; })""",
                CONTROLS,
            )
            assert len(borders) >= 3, path
            for html, style, width, colour in borders:
                assert style == "solid" and width >= 1 and not re.match(r"rgba\(.*, 0\)$|transparent", colour), html


def axe(page) -> list[dict]:
    page.add_script_tag(path=AXE)
    return page.evaluate(
        "axe.run(document).then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target)})))"
    )


@pytest.mark.skipif(
    not AXE.exists() and not os.environ.get("CI"), reason="axe-core is not installed: npm ci --prefix tests"
)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_in_either_colour_scheme(browser, site, scheme):
    # The test injects axe as an inline script, which the site's policy rightly refuses.
    with phone(browser, width=360, color_scheme=scheme, bypass_csp=True) as (context, page):
        for lang in ("en", "ar", "fa"):
            for path in PAGE_TYPES:
                page.goto(site + path.format(lang=lang))
                assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                assert axe(page) == [], (scheme, lang, path)


def relative_luminance(rgb: tuple[float, ...]) -> float:
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(parse_rgb(a)), relative_luminance(parse_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def parse_rgb(css: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", css))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_focus_ring_stands_out_3_to_1_from_what_it_sits_on(browser, site, scheme):
    with phone(browser, width=360, color_scheme=scheme) as (context, page):
        for path in ("/ar/rights/rights-1", "/en/money/", "/fa/search?q=copy", "/en/on-this-phone"):
            page.goto(site + path)
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            rings = []
            for _ in range(60):
                page.keyboard.press("Tab")
                ring = page.evaluate(
                    """() => {
                        const el = document.activeElement;
                        if (el === document.body) return null;
                        const s = getComputedStyle(el);
                        // The ring sits outside the element: on the first ancestor that paints a background.
                        let under = el.parentElement, bg = 'rgb(255, 255, 255)';
                        for (; under; under = under.parentElement) {
                            const c = getComputedStyle(under).backgroundColor;
                            if (!/rgba\\(.*, 0\\)|transparent/.test(c)) { bg = c; break; }
                        }
                        return {html: el.outerHTML.slice(0, 60), style: s.outlineStyle,
                                width: parseFloat(s.outlineWidth), colour: s.outlineColor, bg};
                    }"""
                )
                if ring is None or ring in rings:
                    break
                rings.append(ring)
            assert len(rings) >= 5, path
            for ring in rings:
                assert ring["style"] == "solid" and ring["width"] >= 2, ring
                assert contrast(ring["colour"], ring["bg"]) >= 3, ring


def test_controls_and_standalone_links_are_big_enough_to_tap(browser, site):
    # Links inside running text are exempt (WCAG 2.2 2.5.8); everything else is 24 px, controls 44 px.
    with phone(browser, width=360) as (context, page):
        for lang in ("en", "ar"):
            for path in PAGE_TYPES:
                page.goto(site + path.format(lang=lang))
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                small = page.evaluate(
                    """() => [...document.querySelectorAll('a, button, summary, input')]
                        .filter(el => el.getClientRects().length && !el.closest('.body, .notice, .lead, p.note, .skip'))
                        .map(el => { const r = el.getBoundingClientRect();
                            const primary = el.matches('button, summary, input[type=search], .leave, .cards a, .results a');
                            return [el.outerHTML.slice(0, 70), Math.round(r.width), Math.round(r.height), primary ? 44 : 24]; })
                        .filter(([, w, h, least]) => h < least || w < 24)"""
                )
                assert small == [], (lang, path)


def test_leave_quickly_replaces_the_page_in_the_history(browser, site):
    with phone(browser) as (context, page):
        page.goto(f"{site}/en/")
        page.goto(f"{site}/en/emergencies/")
        length = page.evaluate("history.length")
        page.locator("a.leave").click()
        page.wait_for_url(NEUTRAL)
        assert page.evaluate("history.length") == length  # replaced, not added
        page.go_back()
        assert page.url == f"{site}/en/"  # the page left is gone from Back


def test_leave_quickly_without_javascript_is_a_plain_link_to_the_neutral_site(browser, site):
    with phone(browser, java_script_enabled=False) as (context, page):
        page.goto(f"{site}/ar/emergencies/")
        page.locator("a.leave").click()
        page.wait_for_url(NEUTRAL)


def offline_heading(context, site: str, lang: str) -> str:
    """Return the heading of a language's offline page, as the server renders it."""
    html = context.request.get(f"{site}/{lang}/offline").text()
    return must(re.search(r"<h1>(.*?)</h1>", html)).group(1)


def test_offline_every_navigation_ends_on_a_waypost_page(browser, site):
    with phone(browser, width=360, service_workers="allow") as (context, page):
        headings = {lang: offline_heading(context, site, lang) for lang in ("ar", "fa", "en")}
        page.goto(f"{site}/ar/")  # only Arabic is ever visited
        wait_for_worker(page)
        wait_until(page, "() => caches.match('/ar/offline-search')")
        context.set_offline(True)
        # An address with no language: the one last used.
        page.goto(f"{site}/no-language-here")
        assert page.locator("h1").inner_text() == headings["ar"]
        page.goto(f"{site}/ar/")
        # Changing language offline, with the switcher.
        page.locator(".languages summary").click()
        page.locator(".languages a[hreflang=fa]").click()
        page.wait_for_url(f"{site}/fa/")
        assert page.locator("h1").inner_text() == headings["fa"]
        assert page.evaluate("document.documentElement.lang") == "fa"
        # An address in a language never visited.
        page.goto(f"{site}/en/money/money-1")
        assert page.locator("h1").inner_text() == headings["en"]
        # The offline page lists what is saved (nothing yet), and it says so.
        page.locator("[data-saved-empty]").wait_for()


def test_dont_keep_pages_turns_the_recent_pages_off_and_clears_them(browser, site):
    with phone(browser, width=360, service_workers="allow") as (context, page):
        page.goto(f"{site}/en/money/")
        wait_for_worker(page)
        page.goto(f"{site}/en/rights/")
        wait_until(page, "() => caches.match('/en/rights/')")  # kept, as by default
        page.goto(f"{site}/en/on-this-phone")
        setting = page.locator("#wp-keep")
        setting.wait_for()
        off = page.evaluate("document.querySelector('#wp-keep template[data-message=off]').content.textContent.trim()")
        setting.locator("input[type=checkbox]").check()
        page.locator("#wp-keep-status").get_by_text(off).wait_for()
        assert page.evaluate("caches.match('/en/rights/').then(Boolean)") is False
        page.goto(f"{site}/en/money/money-1")
        page.goto(f"{site}/en/on-this-phone")
        page.locator("#wp-keep input:checked").wait_for()  # the choice stays on this phone
        assert page.evaluate("caches.match('/en/money/money-1').then(Boolean)") is False
        assert context.cookies() == []
        heading = offline_heading(context, site, "en")
        context.set_offline(True)
        page.goto(f"{site}/en/money/money-1")
        assert page.locator("h1").inner_text() == heading  # read, but not kept


def test_sensitive_pages_are_never_kept_unless_the_reader_saves_them(browser, site):
    with phone(browser, width=360, service_workers="allow") as (context, page):
        page.goto(f"{site}/en/")
        wait_for_worker(page)
        response = page.goto(f"{site}/en/emergencies/emergencies-1")
        assert response.headers["cache-control"] == "no-store"
        page.goto(f"{site}/en/rights/rights-2")  # marked on the article itself
        page.goto(f"{site}/en/rights/rights-1")
        wait_until(page, "() => caches.match('/en/rights/rights-1')")
        kept = page.evaluate(
            "Promise.all(['/en/emergencies/emergencies-1', '/en/rights/rights-2']"
            ".map(u => caches.match(u).then(Boolean)))"
        )
        assert kept == [False, False]
        page.goto(f"{site}/en/emergencies/")
        saved = page.evaluate(
            "document.querySelector('#wp-save template[data-message=saved]').content.firstChild.textContent.trim()"
        )
        page.locator("#wp-save button").click()
        page.locator("#wp-save-status").get_by_text(saved).wait_for()
        context.set_offline(True)
        page.goto(f"{site}/en/emergencies/emergencies-1")
        assert page.locator("article h1").inner_text() == "Guide emergencies 1"
