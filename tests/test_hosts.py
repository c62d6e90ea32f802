"""No header or body repeats the Host a client sent: any phone on the Wi-Fi can send any Host."""

from __future__ import annotations

import pytest
from werkzeug.routing import RequestRedirect

HOSTILE = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"}

# One address or more of every route, the router's own redirects among them.
PATHS = [
    "/",  # to the reader's language
    "/en",  # to /en/, built by the router
    "/en/",
    "/ar/money",
    "/ar/money/",
    "/en/money/money-1",
    "/en/rights/money-1",  # an article under the wrong topic: 301 to the right one
    "/en/glossary",
    "/en/search?q=guide",
    "/ar/money/pack.html",
    "/fa/glossary/pack.html",
    "/en/saved",
    "/en/offline",
    "/en/offline-search",
    "/fa/on-this-phone",
    "/en/status",
    "/ar/poster",  # its address comes from PUBLIC_URL, never the Host
    "/leave",  # the one redirect to another site: the operator's LEAVE_URL, never the Host
    "/en/money/offline.json",
    "/en/manifest.webmanifest",
    "/sw.js",
    "/static/0000000000/waypost.css",  # an old stylesheet address: redirect to the current one
    "/api/v1/status",
    "/api/v1/en/search?q=guide",
    "/api/v1/en/articles/money-1",
    "/api/v1/en/articles/nowhere",
    "/en/remittances/",
    "/en/remittances/GBR-AFG",
    "/ar/remittances/GBR-AFG/pack.html",
    "/api/v1/en/remittances",
    "/api/v1/en/remittances/GBR-AFG",
    "/api/v1/remittances/calculate?amount=200&fee=5&rate=0.97",
    "/xx/nowhere/",
    # Local help (the test bundle has no places: each of these is a 404, which reaches the route too).
    "/en/places/",
    "/en/places/testville/",
    "/en/places/testville/in/food",
    "/en/places/testville/services/svc-1",
    "/en/places/testville/pack.html",
    "/en/places/testville/poster",
    "/en/places/testville/offline.json",
    "/api/v1/en/places/testville",
    "/api/v1/en/places/testville/services/svc-1",
    "/api/v1/en/places/testville/hsds.json",
]


def test_the_paths_below_reach_every_route(make_app):
    app = make_app()
    adapter = app.url_map.bind("localhost")
    reached = set()
    for path in PATHS:
        try:
            reached.add(adapter.match(path.split("?")[0])[0])
        except RequestRedirect:
            pass
    assert reached == {rule.endpoint for rule in app.url_map.iter_rules()}


@pytest.mark.parametrize("path", PATHS)
def test_a_hostile_host_appears_in_no_header_and_no_body(client, path):
    response = client.get(path, headers=HOSTILE)
    assert response.status_code in (200, 301, 302, 308, 404), response.status_code
    for name, value in response.headers.items():
        assert "evil.example" not in value, name
    assert b"evil.example" not in response.get_data()
    if response.status_code in (301, 302, 308) and path != "/leave":
        assert response.headers["Location"].startswith("/"), response.headers["Location"]


def test_redirects_are_relative_through_a_real_server(make_app):
    import requests

    from .live import serving

    with serving(make_app()) as url:
        response = requests.get(
            f"{url}/en", headers={**HOSTILE, "Connection": "close"}, allow_redirects=False, timeout=10
        )
    assert response.status_code == 308 and response.headers["Location"] == "/en/"
