"""The response cache: the same bytes and headers as a rendered page, dropped on a bundle swap, never poisoned."""

from __future__ import annotations

import contextlib
import gzip
import os
import random
from collections.abc import Iterator
from datetime import timedelta

import brotli
import pytest
from flask import request, template_rendered
from werkzeug.datastructures import Headers

from app import kiosk_state
from app.bundle.build import build_bundle
from app.content.load import load_content
from app.web import cache

from .helpers import edit_article

PAGES = ["/en/", "/ar/money/", "/en/money/money-1", "/fa/glossary", "/en/search?q=guide", "/en/saved", "/sw.js",
         "/en/manifest.webmanifest", "/api/v1/en/articles/money-1", "/api/v1/status"]  # fmt: skip
HOSTILE = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}


@contextlib.contextmanager
def renders(app) -> Iterator[list[str]]:
    """Record the templates Flask renders while the block runs."""
    seen: list[str] = []

    def record(sender, template, context, **extra):
        seen.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def without_date(headers) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in headers.items() if k != "Date")


def entries(app) -> dict:
    return app.wsgi_app.memory.entries


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("accept", ["br, gzip", "gzip", "identity"])
def test_a_cached_answer_is_byte_identical_to_the_rendered_one(make_app, path, accept):
    app = make_app()
    client = app.test_client()
    headers = {"Accept-Encoding": accept}
    first = client.get(path, headers=headers)
    with renders(app) as seen:
        again = client.get(path, headers=headers)
    assert first.status_code == again.status_code == 200
    assert seen == []  # nothing was rendered the second time
    assert again.get_data() == first.get_data()
    assert without_date(again.headers) == without_date(first.headers)
    assert "Set-Cookie" not in again.headers
    assert "Accept-Encoding" in again.headers["Vary"]
    assert again.headers["Content-Security-Policy"] and again.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/en/", "/en/money/money-1", "/fa/glossary", "/en/search?q=guide"])
def test_with_the_cache_off_every_page_is_rendered_and_reads_the_same(make_app, path):
    on, off = make_app().test_client(), make_app(RESPONSE_CACHE_MB=0)
    cached = [on.get(path, headers={"Accept-Encoding": "gzip"}) for _ in range(2)][1]
    with renders(off) as seen:
        plain = off.test_client().get(path, headers={"Accept-Encoding": "gzip"})
    assert seen, "the cache is off, so the page is rendered"
    assert gzip.decompress(cached.get_data()) == gzip.decompress(plain.get_data())
    # The same headers, ETag included (it is the hash of the page itself); only the compressed length may differ.
    drop = ("Date", "Content-Length")
    assert [h for h in without_date(cached.headers) if h[0] not in drop] == [
        h for h in without_date(plain.headers) if h[0] not in drop
    ]


@pytest.mark.parametrize("accept", ["br", "gzip", "identity"])
def test_a_matching_etag_gets_a_304_without_rendering(make_app, accept):
    app = make_app()
    client = app.test_client()
    first = client.get("/ar/money/money-1", headers={"Accept-Encoding": accept})
    with renders(app) as seen:
        again = client.get(
            "/ar/money/money-1", headers={"Accept-Encoding": accept, "If-None-Match": first.headers["ETag"]}
        )
    assert again.status_code == 304 and again.get_data() == b"" and seen == []
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Vary"] == first.headers["Vary"]
    assert "Content-Type" not in again.headers and "Content-Encoding" not in again.headers


def test_an_etag_of_another_encoding_gets_the_page(client):
    gz = client.get("/en/", headers={"Accept-Encoding": "gzip"})
    br = client.get("/en/", headers={"Accept-Encoding": "br", "If-None-Match": gz.headers["ETag"]})
    assert br.status_code == 200 and br.headers["Content-Encoding"] == "br"


def test_head_is_answered_from_the_cache_without_a_body(make_app):
    app = make_app()
    client = app.test_client()
    got = client.get("/en/glossary", headers={"Accept-Encoding": "gzip"})
    with renders(app) as seen:
        head = client.head("/en/glossary", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.get_data() == b"" and seen == []
    assert head.headers["Content-Length"] == str(len(got.get_data()))
    assert head.headers["ETag"] == got.headers["ETag"]


def test_a_bundle_swap_drops_the_cache(make_app, bundle_path, content_dir, tmp_path):
    app = make_app()
    client = app.test_client()
    assert b"Keep your copy in a safe place" in client.get("/en/money/money-1").get_data()
    etag = client.get("/en/money/money-1").headers["ETag"]
    edit_article(content_dir, "money-1", "Keep your copy in a safe place", "Keep the new copy close")
    new = tmp_path / "new.bundle"
    build_bundle(load_content(content_dir), new)
    os.replace(new, bundle_path)  # how a kiosk installs a bundle: a rename over the live file
    with renders(app) as seen:
        after = client.get("/en/money/money-1", headers={"If-None-Match": etag})
    assert after.status_code == 200 and seen
    assert b"Keep the new copy close" in after.get_data()
    assert after.headers["ETag"] != etag
    assert all(
        b"Keep your copy in a safe place" not in gzip.decompress(e.bodies["gzip"]) for e in entries(app).values()
    )


def test_a_hostile_host_is_never_cached_for_anyone(make_app):
    app = make_app()
    client = app.test_client()
    for path in PAGES + ["/xx/nowhere/", "/en/nowhere"]:
        client.get(path, headers=HOSTILE)
    for entry in entries(app).values():
        assert b"evil.example" not in gzip.decompress(entry.bodies["gzip"])
        assert all("evil.example" not in value for _, value in entry.headers)
    # Error pages are rendered for each request, never kept.
    assert not [key for key in entries(app) if "nowhere" in key[0]]


def test_a_response_that_repeats_the_host_is_not_cached(make_app):
    app = make_app()

    def echo() -> str:
        return f"<p>You asked {request.host}</p>" * 20  # the mistake the pages never make

    app.add_url_rule("/echo", "echo", echo)
    client = app.test_client()
    assert b"evil.example" in client.get("/echo", headers=HOSTILE).get_data()
    assert b"evil.example" not in client.get("/echo", headers={"Host": "kiosk.local"}).get_data()


def test_a_view_can_mark_its_response_uncacheable(make_app):
    app = make_app()
    calls = []

    def now() -> str:
        cache.uncacheable()
        calls.append(1)
        return f"<p>call {len(calls)}</p>" * 20

    app.add_url_rule("/now", "now", now)
    client = app.test_client()
    assert client.get("/now").get_data() != client.get("/now").get_data()
    assert len(calls) == 2


def test_the_cache_follows_the_kiosk_state(content_dir, tmp_path):
    from app.web import create_app

    from .test_freshness import build, notice

    today = kiosk_state.now().date()
    live = build(content_dir, tmp_path / "b.bundle", today - timedelta(days=45))
    app = create_app({"TESTING": True, "BUNDLE": str(live)})
    assert "last confirmed" in notice(app, "/en/", "en")
    kiosk_state.record(live, "sync", True, "up to date", confirmed_on=today)
    assert notice(app, "/en/", "en") == ""
    assert app.test_client().get("/api/v1/status").get_json()["last_update"]["message"] == "up to date"


def test_cached_answers_are_logged_without_addresses(make_app, caplog):
    client = make_app(ACCESS_LOG=True).test_client()
    with caplog.at_level("INFO", logger="waypost.access"):
        for _ in range(3):
            client.get("/en/", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert caplog.text.count("GET /en/ 200") == 3
    assert "203.0.113.7" not in caplog.text


def test_memory_stays_within_its_bound(make_app):
    app = make_app(RESPONSE_CACHE_MB=0.02)
    client = app.test_client()
    for path in PAGES:
        client.get(path)
    memory = app.wsgi_app.memory
    assert 0 < memory.bytes <= 20_000
    assert memory.bytes == sum(e.size for e in memory.entries.values())


def test_each_thread_keeps_one_connection_and_reads_languages_and_metadata_once(make_app):
    app = make_app(RESPONSE_CACHE_MB=0)
    client = app.test_client()
    client.get("/en/")
    live = app.extensions["waypost_store"].current()
    statements: list[str] = []
    live.conn.set_trace_callback(statements.append)
    try:
        for path in ("/en/", "/ar/money/money-1", "/fa/glossary", "/api/v1/status"):
            assert client.get(path).status_code == 200
    finally:
        live.conn.set_trace_callback(None)
    assert app.extensions["waypost_store"].current() is live  # the same connection, not one a request
    assert statements, "the pages read the bundle through this thread's connection"
    assert not [s for s in statements if "FROM languages" in s or "FROM meta" in s]


@pytest.mark.parametrize("first_accept", ["gzip", "br, gzip", "identity"])
def test_a_search_is_compressed_once_and_read_right_in_every_encoding(make_app, first_accept):
    app = make_app()
    client = app.test_client()
    first = client.get("/en/search?q=guide", headers={"Accept-Encoding": first_accept})
    (entry,) = app.wsgi_app.queries.entries.values()
    # Compressed in the one encoding its first reader takes (gzip when none), nothing kept unpacked.
    assert list(entry.bodies) == [{"gzip": "gzip", "br, gzip": "br", "identity": "gzip"}[first_accept]]
    plain = client.get("/en/search?q=guide", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and b"guide" in plain.get_data()
    unpack = {"gzip": gzip.decompress, "br": brotli.decompress}
    for accept in ("gzip", "br, gzip"):
        with renders(app) as seen:
            again = client.get("/en/search?q=guide", headers={"Accept-Encoding": accept})
        assert seen == []
        # What is held, when this reader takes it; else the page unpacked (never what it cannot read).
        encoding = again.headers.get("Content-Encoding", "")
        assert encoding == (list(entry.bodies)[0] if list(entry.bodies)[0] in accept else "")
        body = unpack[encoding](again.get_data()) if encoding else again.get_data()
        assert body == plain.get_data()
        assert (again.headers["ETag"] == plain.headers["ETag"]) == (encoding == "")
    assert first.status_code == 200


def test_a_large_body_is_kept_at_brotli_9_and_a_page_at_11():
    # Quality 11 compresses about half a megabyte a second: a topic's pack of a few megabytes would keep
    # its first reader waiting for seconds. A page stays at the best quality.
    words = random.Random(7).choices(["حق", "مال", "rights", "money", "<p>", "</p>", "aide", "travail"], k=60_000)
    large = " ".join(words).encode()
    page = large[: 40 * 1024]
    assert len(large) > cache.BEST_BROTLI_BYTES >= len(page)
    for body, quality in ((large, 9), (page, 11)):
        entry = cache.represent(body, Headers([("Content-Type", "text/html")]), False, cache.ENCODINGS, kept=True)
        assert entry.bodies["br"] == brotli.compress(body, quality=quality)
        assert entry.bodies["br"] != brotli.compress(body, quality=20 - quality)  # the two qualities differ here
        assert brotli.decompress(entry.bodies["br"]) == body
