"""Low bandwidth: compression, strong ETags and 304s, an immutable stylesheet."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from .helpers import must


def stylesheet_url(html: str) -> str:
    return must(re.search(r'<link rel="stylesheet" href="([^"]+)">', html)).group(1)


@pytest.mark.parametrize(("accept", "encoding"), [("gzip", "gzip"), ("br, gzip", "br"), ("identity", None)])
def test_pages_are_compressed_as_the_client_accepts(client, accept, encoding):
    response = client.get("/en/glossary", headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = response.get_data()
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "br":
        body = brotli.decompress(body)
    assert b"<!doctype html>" in body


@pytest.mark.parametrize("accept", ["gzip", "br", "identity"])
def test_a_repeat_request_with_the_etag_gets_a_304(client, accept):
    first = client.get("/ar/", headers={"Accept-Encoding": accept})
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    again = client.get("/ar/", headers={"Accept-Encoding": accept, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_each_encoding_has_its_own_etag(client):
    tags = {client.get("/en/", headers={"Accept-Encoding": e}).headers["ETag"] for e in ("br", "gzip", "identity")}
    assert len(tags) == 3


def test_the_stylesheet_has_a_hashed_url_and_is_immutable(client):
    url = stylesheet_url(client.get("/en/").get_data(as_text=True))
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "immutable" in response.headers["Cache-Control"]
    stale = client.get(url.replace(url.split("/")[2], "000000000000"))
    assert stale.status_code == 302 and stale.headers["Location"] == url


def test_every_static_file_is_served_with_its_own_type(client):
    # The types come from assets.TYPES, not the machine's mime.types: a new kind of file needs its line there.
    served = {name: asset.mimetype for name, asset in client.application.extensions["waypost_assets"].items()}
    assert served and "application/octet-stream" not in served.values(), served
    assert served["waypost.css"] == "text/css" and served["search.js"] == "text/javascript"
    assert served["icon-192.png"] == "image/png"


def test_home_page_and_stylesheet_transfer_under_15_kb_gzipped(client):
    page = client.get("/en/", headers={"Accept-Encoding": "gzip"})
    css = client.get(stylesheet_url(gzip.decompress(page.get_data()).decode()), headers={"Accept-Encoding": "gzip"})
    assert len(page.get_data()) + len(css.get_data()) < 15_000


def test_access_logging_never_records_addresses(make_app, caplog):
    client = make_app(ACCESS_LOG=True).test_client()
    with caplog.at_level("INFO", logger="waypost.access"):
        client.get("/en/", environ_base={"REMOTE_ADDR": "203.0.113.7"})
        client.get("/en/search?q=asylum+Calais")
    logged = [r.getMessage() for r in caplog.records if r.name == "waypost.access"]
    assert re.fullmatch(r"GET /en/ 200 \d+\.\dms", logged[0])
    assert re.fullmatch(r"GET /en/search 200 \d+\.\dms", logged[1])  # never what was searched
    assert "203.0.113.7" not in caplog.text and "asylum" not in caplog.text
