"""`waypost export-static`: the whole site as static files, with precompressed copies."""

from __future__ import annotations

import gzip
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
import pytest
from click.testing import CliRunner

from app.bundle.build import build_bundle
from app.cli import main
from app.content.load import load_content
from app.web.export import file_for

from .helpers import write_content


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.html_lang: tuple[str | None, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = (attrs.get("lang"), attrs.get("dir"))
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One export of the small content set, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("export")
    content = load_content(write_content(root / "content"))
    build_bundle(content, root / "test.bundle")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(root / "instance"))
        result = CliRunner().invoke(main, ["export-static", str(root / "site"), "--bundle", str(root / "test.bundle")])
    assert result.exit_code == 0, result.output
    return root / "site"


def page_path(url_path: str) -> str:
    return file_for(url_path)


def test_every_page_of_every_language_is_exported_with_its_lang_and_dir(exported):
    for lang, direction in (("en", "ltr"), ("ar", "rtl"), ("fa", "rtl"), ("uk", "ltr")):
        for path in (f"/{lang}/", f"/{lang}/rights/", f"/{lang}/rights/rights-1", f"/{lang}/glossary"):
            parser = Links()
            parser.feed((exported / page_path(path)).read_text(encoding="utf-8"))
            assert parser.html_lang == (lang, direction), path
    assert len(list(exported.rglob("*.html"))) >= 6 * (1 + 5 + 10 + 2)


def test_every_link_in_the_export_leads_to_an_exported_file(exported):
    checked = 0
    for html in exported.rglob("*.html"):
        url = "/" + html.relative_to(exported).as_posix().removesuffix("index.html").removesuffix(".html")
        parser = Links()
        parser.feed(html.read_text(encoding="utf-8"))
        for link in parser.links:
            split = urlsplit(urljoin(url, link))
            if split.scheme or split.netloc or split.query:
                continue  # sources on other sites; search queries
            assert (exported / page_path(split.path)).is_file(), f"{html}: {link}"
            checked += 1
    assert checked > 500


def test_text_files_have_identical_gzip_and_brotli_copies(exported):
    for path in [exported / "en" / "index.html", *exported.glob("static/*/*.css")]:
        body = path.read_bytes()
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == body
        assert brotli.decompress(path.with_name(path.name + ".br").read_bytes()) == body


def test_the_search_page_says_search_needs_the_server(exported):
    text = (exported / "fr" / "search.html").read_text(encoding="utf-8")
    assert 'name="q"' not in text
    assert 'href="/fr/glossary"' in text


def test_the_root_lets_a_reader_choose_a_language_in_its_own_script(exported):
    parser = Links()
    text = (exported / "index.html").read_text(encoding="utf-8")
    parser.feed(text)
    assert {"en/", "ar/", "fa/"} <= set(parser.links)
    assert 'lang="ar" dir="rtl"' in text


def test_a_failed_export_leaves_the_previous_one_in_place(exported, tmp_path):
    exported = Path(shutil.copytree(exported, tmp_path / "site"))
    before = sorted(p.relative_to(exported) for p in exported.rglob("*"))
    bad = tmp_path / "bad.bundle"
    bad.write_text("not a bundle")
    result = CliRunner().invoke(main, ["export-static", str(exported), "--bundle", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("error: not exported:")
    assert sorted(p.relative_to(exported) for p in exported.rglob("*")) == before
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith(".site.")]
