"""Offline on phones: the service worker and its pages, the app manifest, and offline packs.

Secure origins get `/sw.js`, which saves pages and answers when the network is
gone; any origin gets single-file packs per topic. Every string a script shows
is rendered here, through gettext, and read by the script from the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, url_for
from flask_babel import gettext, ngettext

from app.bundle import read as bundle
from app.bundle import search as searching
from app.web import packs, store
from app.web.assets import asset_url
from app.web.pages import language, localise, site_languages
from app.web.remittances import has_prices
from app.web.sizes import offline_sizes

bp = Blueprint("offline", __name__)

# Cached when the worker installs: what every offline page needs to look right.
SHELL_ASSETS = ("waypost.css", "register.js", "offline.js", "icon-192.png", "icon-512.png", "icon-maskable-512.png")
THEME_COLOUR = "#0b5d3b"
ICONS = (("icon-192.png", "192x192", "any"), ("icon-512.png", "512x512", "any"),
         ("icon-maskable-512.png", "512x512", "maskable"))  # fmt: skip


localise(bp)


def worker_version() -> str:
    """Return the service worker's version: the app version and the bundle's short digest."""
    return f"{current_app.config['VERSION']}-{packs.version()['digest']}"


@bp.get("/sw.js")
def worker() -> Response:
    """Serve the service worker with its version and asset URLs filled in."""
    source = current_app.extensions.get("waypost_worker")
    if source is None:
        path = Path(current_app.config["SERVICE_WORKER"])
        if not path.is_file():
            # An install without the source file: the site then works as it does with no worker at all.
            current_app.logger.error("no service worker at %s: offline reading is off", path)
            abort(404)
        source = current_app.extensions["waypost_worker"] = path.read_text(encoding="utf-8")
    tokens = {
        "__WAYPOST_VERSION__": worker_version(),
        "__WAYPOST_SHELL__": json.dumps([asset_url(name) for name in SHELL_ASSETS]),
        "__WAYPOST_SEARCH__": json.dumps(asset_url("search.js")),
        "__WAYPOST_LANGUAGES__": json.dumps([lang["code"] for lang in site_languages()]),
    }
    body = source
    for token, value in tokens.items():
        body = body.replace(token, value)
    response = Response(body, mimetype="text/javascript")
    # Browsers check the worker for changes on each visit; never keep it.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/<lang>/manifest.webmanifest")
def manifest() -> Response:
    """Serve the web app manifest in the reader's language."""
    from app.web import schemas  # marshmallow loads with the first JSON answer

    lang = language(g.lang)
    data = {
        "name": gettext("Waypost: guidance for people on the move"),
        "short_name": "Waypost",
        "description": gettext(
            "Short, practical answers about your rights, your money, your safety and legal ways to move."
        ),
        "lang": lang["code"],
        "dir": lang["dir"],
        "start_url": url_for("pages.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [{"src": asset_url(name), "sizes": sizes, "type": "image/png", "purpose": purpose}
                  for name, sizes, purpose in ICONS],
    }  # fmt: skip
    body = json.dumps(schemas.WebManifestSchema().dump(data), ensure_ascii=False)
    return Response(body, mimetype="application/manifest+json")


@bp.get("/<lang>/offline")
def offline_page() -> str:
    """Serve the page the worker shows for a page that is not saved."""
    return render_template("offline/offline.html")


@bp.get("/<lang>/saved")
def saved_page() -> str:
    """Serve the page that lists saved topics and offers every pack."""
    db, source = store.get_db(), store.source_language()
    topics = bundle.topics(db, g.lang, source)
    return render_template(
        "offline/saved.html",
        topics=topics,
        topic_sizes={t["slug"]: offline_sizes(g.lang, t["slug"]) for t in topics},
        glossary_sizes=offline_sizes(g.lang, None),
    )


@bp.get("/<lang>/on-this-phone")
def on_this_phone() -> str:
    """Serve the page that says what the phone keeps, how to remove it, and the "don't keep" setting."""
    return render_template("offline/on_this_phone.html")


@bp.get("/<lang>/offline-search")
def search_template() -> str:
    """Serve the page the worker fills with results from saved topics when offline."""
    # One count message for every possible number of results, since only the
    # catalogs know each language's plural forms.
    most = sum(t["articles"] for t in bundle.topics(store.get_db(), g.lang, store.source_language()))
    return render_template("offline/search.html", most=most)


@bp.get("/<lang>/<topic>/offline.json")
def save_list(topic: str) -> Response:
    """Serve what saving a topic fetches, with the search index of its articles."""
    body = json.dumps(_save_list(topic), ensure_ascii=False, separators=(",", ":"))
    return Response(body, mimetype="application/json")


@bp.get("/<lang>/<topic>/pack.html")
def topic_pack(topic: str) -> Response:
    """Send one topic as a single self-contained HTML file."""
    db, source = store.get_db(), store.source_language()
    found = _topic(topic)
    response = _attachment(packs.render_topic_pack(db, site_languages(), g.lang, source, found), topic)
    if found["sensitive"]:
        response.headers["Cache-Control"] = "no-store"  # the reader's download only, never a cached copy
    return response


@bp.get("/<lang>/glossary/pack.html")
def glossary_pack() -> Response:
    """Send the glossary as a single self-contained HTML file."""
    db, source = store.get_db(), store.source_language()
    return _attachment(packs.render_glossary_pack(db, site_languages(), g.lang, source), "glossary")


def _save_list(topic: str) -> dict[str, Any]:
    from app.web import schemas  # marshmallow loads with the first JSON answer

    db, source = store.get_db(), store.source_language()
    found = _topic(topic)
    articles = packs.topic_articles(db, g.lang, source, topic)
    # Every saved article links to glossary entries: the glossary is saved too, last.
    pages = [url_for("pages.topic", topic=topic)]
    index = []
    glossary = bundle.glossary_synonyms(db)
    for a in articles:
        url = url_for("pages.article", topic=topic, slug=a["slug"])
        pages.append(url)
        synonyms = " ".join(searching.synonyms_of(a["html"], a["text"], glossary))
        index.append({**a, "url": url, "dir": language(a["lang"])["dir"], "synonyms": synonyms})
    pages.append(url_for("pages.glossary"))
    if topic == "money" and has_prices():
        pages.append(url_for("remittances.index"))  # the corridor the reader opens is kept by sw.js
    lang = language(g.lang)
    return schemas.SaveListSchema().dump(
        {
            "version": worker_version(), "lang": lang["code"], "dir": lang["dir"], "topic": topic,
            "name": found["name"], "url": pages[0], "pages": pages, "index": index,
            "label": ngettext("%(num)d article", "%(num)d articles", len(articles)),
        }
    )  # fmt: skip


def _attachment(html: str, name: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="waypost-{g.lang}-{name}.html"'
    # The pack's one inline stylesheet is allowed by its hash; nothing else is.
    response.headers["Content-Security-Policy"] = packs.content_security_policy(packs.pack_css()[1])
    return response


def _topic(slug: str) -> dict:
    found = bundle.topic(store.get_db(), g.lang, store.source_language(), slug)
    if found is None:
        abort(404)
    return found
