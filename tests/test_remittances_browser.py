"""The remittance calculator in real Chromium: with JavaScript off, and offline with it on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import create_app

from .live import LAUNCH, require_chromium, serving

require_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")
SAMPLE = Path(__file__).resolve().parent.parent / "content" / "remittances"


@pytest.fixture
def live_server(content_dir: Path, tmp_path: Path):
    shutil.copytree(SAMPLE, content_dir / "remittances")
    build_bundle(load_content(content_dir), tmp_path / "prices.bundle")
    with serving(create_app({"TESTING": True, "BUNDLE": str(tmp_path / "prices.bundle")})) as url:
        yield url


def fill(page) -> None:
    page.fill("#amount", "160")
    page.fill("#fee", "3")
    page.fill("#rate", "85.5")
    page.fill("#interbank", "86.2")
    page.click("form.calculator button")


@pytest.mark.parametrize("javascript", [False, True])
def test_the_calculator_gives_the_same_figures_with_and_without_javascript(live_server, javascript: bool) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(**LAUNCH)
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": 360, "height": 640})
        page = context.new_page()
        page.goto(f"{live_server}/en/remittances/GBR-AFG")
        if javascript:
            context.set_offline(True)  # the figures must come from the page's own script
        fill(page)
        result = page.locator("#calc-result")
        result.get_by_text("Total cost").wait_for()
        text = result.inner_text()
        assert "2.69%" in text and "13,680.00" in text and "average was 5.77%" in text, text
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        browser.close()
