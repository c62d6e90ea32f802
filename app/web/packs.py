"""Single-file offline packs, and what a topic costs to save for offline reading.

A pack is one HTML file with every article of a topic (or the whole glossary)
in one language: inline CSS, in-page links, no script and no outside request,
so it opens from a phone's Downloads folder and can be passed on by message.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from datetime import date
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup

from app.bundle import read as bundle
from app.web import store
from app.web.pages import kiosk_today

# Rules the pack needs on top of the site's own stylesheet.
PACK_CSS = """
body { overflow-wrap: break-word; }
.brand { display: inline-block; padding-block: .5rem; }
.made { color: var(--muted); font-size: .95rem; }
.toc ol { padding-inline-start: 1.4rem; }
.toc li { margin-block: .3rem; }
article.pack { margin-block-start: 2.5rem; border-block-start: 3px solid var(--accent); }
.top { font-size: .95rem; }
"""

_ARTICLE_LINK = re.compile(r' href="\.\./([a-z0-9-]+)/([a-z0-9-]+)"')
_GLOSSARY_LINK = re.compile(r'href="\.\./glossary#([^"]+)"')
_HEADING = re.compile(r"<(/?)h([234])>")


def topic_articles(conn: sqlite3.Connection, lang: str, source: str, topic: str) -> list[dict]:
    """Return every article of a topic in lang, in full, falling back to the source language."""
    listed = bundle.articles_in_topic(conn, lang, source, topic)
    found = (bundle.article(conn, lang, source, a["slug"]) for a in listed)
    return [a for a in found if a is not None]


def version() -> dict[str, str]:
    """Return the live bundle's short digest and build time."""
    info = store.live().meta
    return {"digest": info.get("content_digest", "")[:12], "built_at": info.get("built_at", "")[:10]}


def pack_css() -> tuple[Markup, str]:
    """Return the pack's inline stylesheet and its CSP hash source."""
    site = current_app.extensions["waypost_assets"]["waypost.css"].body.decode("utf-8")
    css = site + PACK_CSS
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return Markup(css), f"'sha256-{digest}'"


def content_security_policy(style_hash: str) -> str:
    """Return the policy a pack carries: its own stylesheet and nothing else."""
    return f"default-src 'none'; style-src {style_hash}; base-uri 'none'; form-action 'none'"


def render_topic_pack(conn: sqlite3.Connection, languages: list[dict], lang: str, source: str, topic: dict) -> str:
    """Render one topic's articles in lang as a self-contained HTML file."""
    articles = topic_articles(conn, lang, source, topic["slug"])
    in_pack = {a["slug"] for a in articles}
    site = public_url()
    used: set[str] = set()
    for a in articles:
        used |= set(_GLOSSARY_LINK.findall(a["html"]))
        a["html"] = Markup(_shift_headings(_rewrite_links(a["html"], lang, in_pack, site)))
        a["past_review"] = date.fromisoformat(a["review_by"]) < kiosk_today()
    terms = [t for t in bundle.glossary(conn, lang, source) if t["id"] in used]
    return _render(conn, languages, lang, source, topic=topic, articles=articles, terms=terms)


def render_glossary_pack(conn: sqlite3.Connection, languages: list[dict], lang: str, source: str) -> str:
    """Render the whole glossary in lang as a self-contained HTML file."""
    terms = bundle.glossary(conn, lang, source)
    return _render(conn, languages, lang, source, topic=None, articles=[], terms=terms)


def _render(conn: sqlite3.Connection, languages: list[dict], lang: str, source: str, **context: Any) -> str:
    css, style_hash = pack_css()
    by_code = {x["code"]: x for x in languages}
    return render_template(
        "offline/pack.html",
        lang=by_code[lang],
        source_lang=by_code[source],
        language=by_code.__getitem__,
        css=css,
        csp=content_security_policy(style_hash),
        made=kiosk_today().isoformat(),
        version=version(),
        site=public_url(),
        **context,
    )


def public_url() -> str:
    """Return the PUBLIC_URL setting ending in one slash, or "" when it is not set.

    A pack is read from a phone's Downloads folder, where only an absolute
    link leads anywhere. The request's Host header would give one, but any
    client can send any Host, and a pack is passed on from phone to phone:
    so the address comes from the operator or not at all.
    """
    url = str(current_app.config["PUBLIC_URL"]).strip()
    return url.rstrip("/") + "/" if url else ""


def _rewrite_links(html: str, lang: str, in_pack: set[str], site: str) -> str:
    """Point links at the pack itself where it holds the target, else at the site, else nowhere."""

    def article(match: re.Match) -> str:
        topic, slug = match.groups()
        if slug in in_pack:
            return f' href="#{slug}"'
        # Without a known address the words stay and the link goes; the footer says where to look.
        return f' href="{site}{lang}/{topic}/{slug}"' if site else ""

    return _GLOSSARY_LINK.sub(r'href="#term-\1"', _ARTICLE_LINK.sub(article, html))


def _shift_headings(html: str) -> str:
    """Move body headings one level down: in a pack the article title is an h2."""
    return _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}>", html)
