"""The shelf: pages kept on disk across restarts, never for another bundle, other settings or another day."""

from __future__ import annotations

import email.utils
import logging
import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from app import kiosk_state
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import cache, headers
from app.web.shelf import Shelf

from .helpers import edit_article
from .test_cache import renders
from .test_serve import served


def shelved(app) -> list[tuple[str, str]]:
    """Return the (generation, path) of every page on an app's shelf."""
    with sqlite3.connect(Path(app.instance_path) / cache.SHELF_FILE) as conn:
        return conn.execute("SELECT generation, path FROM page ORDER BY id").fetchall()


def test_a_restart_answers_a_kept_page_from_the_shelf_byte_for_byte(make_app):
    first = make_app().test_client().get("/en/money/money-1", headers={"Accept-Encoding": "br, gzip"})
    assert [path for _, path in shelved(make_app())] == ["/en/money/money-1"]
    restarted = make_app()  # a new process would see the same: the same folder, settings, bundle and day
    with renders(restarted) as seen:
        again = restarted.test_client().get("/en/money/money-1", headers={"Accept-Encoding": "br, gzip"})
        gzipped = restarted.test_client().get("/en/money/money-1", headers={"Accept-Encoding": "gzip"})
        plain = restarted.test_client().get("/en/money/money-1", headers={"Accept-Encoding": "identity"})
    assert seen == []
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    assert headers.without(again.headers.items(), ["Date"]) == headers.without(first.headers.items(), ["Date"])
    assert gzipped.headers["Content-Encoding"] == "gzip" and b"Keep your copy" in plain.get_data()


def test_a_search_is_never_kept_on_the_shelf(make_app):
    client = make_app().test_client()
    assert client.get("/en/search?q=guide").status_code == 200
    assert client.get("/en/").status_code == 200
    assert [path for _, path in shelved(make_app())] == ["/en/"]


def test_other_settings_never_read_a_page_kept_under_the_old_ones(make_app):
    make_app(LEAVE_URL="https://old.example/").test_client().get("/en/")
    new = make_app(LEAVE_URL="https://new.example/")
    page = new.test_client().get("/en/").get_data()
    assert b"https://new.example/" in page and b"old.example" not in page
    assert len(shelved(new)) == 1  # the first page kept under the new settings removed the old ones


def test_a_new_bundle_never_reads_a_page_of_the_old_one(make_app, bundle_path, content_dir, tmp_path):
    make_app().test_client().get("/en/money/money-1")
    edit_article(content_dir, "money-1", "Keep your copy in a safe place", "Keep the new copy close")
    new = tmp_path / "new.bundle"
    build_bundle(load_content(content_dir), new)
    os.replace(new, bundle_path)
    app = make_app()
    assert b"Keep the new copy close" in app.test_client().get("/en/money/money-1").get_data()
    ((generation, _path),) = shelved(app)
    assert generation.startswith(app.extensions["waypost_store"].current().digest)


def test_a_new_day_renders_again(make_app, monkeypatch):
    make_app().test_client().get("/en/")
    tomorrow = kiosk_state.now() + timedelta(days=1)
    monkeypatch.setattr(kiosk_state, "now", lambda: tomorrow)
    app = make_app()
    with renders(app) as seen:
        assert app.test_client().get("/en/").status_code == 200
    assert seen  # "today" is on the page (opening hours, the age of the guidance): yesterday's is not served
    assert [g.rsplit(" ", 1)[1] for g, _ in shelved(app)] == [f'["{tomorrow.date().isoformat()}",[]]']


def test_a_torn_shelf_file_is_replaced_and_the_page_served(make_app, caplog):
    app = make_app()
    shelf = Path(app.instance_path) / cache.SHELF_FILE
    shelf.parent.mkdir(parents=True, exist_ok=True)
    shelf.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))  # what a power cut on a bad card may leave
    with caplog.at_level(logging.WARNING, logger="app.web.shelf"):
        assert app.test_client().get("/en/").status_code == 200
    assert "not a readable shelf" in caplog.text
    assert [path for _, path in shelved(app)] == ["/en/"]


def test_no_shelf_where_nothing_can_be_written_and_pages_are_still_served(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    shelf = Shelf(blocked / cache.SHELF_FILE, 1_000_000)
    with caplog.at_level(logging.WARNING, logger="app.web.shelf"):
        shelf.put("g", "/en/", [("Content-Type", "text/html")], {"gzip": b"x"}, {"gzip": '"a-gz"'})
        assert shelf.get("g", "/en/") is None
    assert "pages are kept in memory only" in caplog.text
    assert blocked.read_text() == "not a folder"


def test_the_shelf_stays_within_its_bound_the_oldest_going_first(tmp_path):
    shelf = Shelf(tmp_path / "shelf.sqlite", 100_000)
    for number in range(40):
        body = os.urandom(5000)  # 5 KB that do not compress
        shelf.put("g", f"/en/{number}", [("Content-Type", "text/html")], {"br": body}, {"br": f'"{number}-br"'})
    with sqlite3.connect(tmp_path / "shelf.sqlite") as conn:
        kept, size = conn.execute("SELECT count(*), sum(size) FROM page").fetchone()
        paths = [p for (p,) in conn.execute("SELECT path FROM page ORDER BY id")]
    assert size <= 100_000 and kept < 40
    assert paths[-1] == "/en/39" and "/en/0" not in paths
    assert shelf.get("g", "/en/39") is not None and shelf.get("g", "/en/0") is None
    assert shelf.get("another generation", "/en/39") is None


def test_a_served_restart_answers_kept_pages_before_it_loads_the_app(bundle_path, tmp_path):
    with served(bundle_path, tmp_path, ready="/en/money/") as (url, _server):
        first = requests.get(f"{url}/en/money/", headers={"Accept-Encoding": "gzip"}, timeout=30)
    # Loading the app compiles the translators' catalogs into the instance folder, so their
    # absence shows that it has not been loaded yet.
    compiled = tmp_path / "instance" / "translations"
    assert list(compiled.rglob("*.mo"))
    shutil.rmtree(compiled)
    with served(bundle_path, tmp_path, ready="/en/money/") as (url, server):
        again = requests.get(f"{url}/en/money/", headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert not compiled.exists(), "a kept page was answered without loading the app"
        search = requests.get(f"{url}/en/search", params={"q": "guide"}, timeout=30)
        assert search.status_code == 200 and "guide" in search.text
        assert list(compiled.rglob("*.mo"))
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize(
    ("accept", "available", "chosen"),
    [
        ("br, gzip", ("br", "gzip"), "br"),
        ("gzip, deflate", ("br", "gzip"), "gzip"),
        ("br;q=0, gzip", ("br", "gzip"), "gzip"),
        ("*", ("br", "gzip"), "br"),
        ("*;q=0.5, br;q=0", ("br", "gzip"), "gzip"),
        ("x-gzip", ("br", "gzip"), "gzip"),
        ("GZIP;Q=0.8", ("br", "gzip"), "gzip"),
        ("br;q=2, gzip;q=high", ("br", "gzip"), ""),
        ("identity", ("br", "gzip"), ""),
        (",,;", ("br", "gzip"), ""),
        ("br", ("gzip",), ""),
    ],
)
def test_the_encoding_sent_follows_accept_encoding(accept, available, chosen):
    assert headers.negotiate(accept, available) == chosen


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc-br"', True),
        ('W/"abc-br"', True),
        ('"x", "abc-br"', True),
        ("*", True),
        ('"abc-gz"', False),
        ("abc-br", False),
        ("", False),
    ],  # fmt: skip
)
def test_if_none_match_is_compared_weakly(header, matches):
    assert headers.etag_matches(header, '"abc-br"') is matches


def test_the_date_header_is_written_as_http_writes_it():
    for second in (0, 1_795_000_000, 1_800_000_001.7):
        assert headers.http_date(second) == email.utils.formatdate(int(second), usegmt=True)
