"""Export the whole site as static files that any web host or CDN can serve.

The export renders every page through the app itself (a test client, no
network), following each same-origin link from every language's home page,
so whatever the site links to (topics, articles, glossary, packs, the
manifest and its icons, the stylesheet and scripts) is written. Each text
file gets precompressed `.gz` and `.br` neighbours. The export is written to
a temporary folder and swapped in whole, so a failed run leaves the previous
export in place.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
from flask import Flask, render_template

from app.bundle import read as bundle
from app.web.cache import STATIC_EXPORT

COMPRESSIBLE = (".html", ".css", ".js", ".json", ".webmanifest", ".svg", ".txt")
SKIPPED_PREFIXES = ("/api/",)


class ExportError(Exception):
    """An export that could not be completed; the previous export is untouched."""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src") and tag in ("a", "link", "script", "img"):
                self.found.append(value)


def file_for(url_path: str) -> str:
    """Return the file that holds a page: `/en/` -> `en/index.html`, `/en/glossary` -> `en/glossary.html`."""
    path = url_path.lstrip("/")
    if path == "" or path.endswith("/"):
        return path + "index.html"
    return path if "." in path.rsplit("/", 1)[-1] else path + ".html"


def export_site(app: Flask, outdir: Path, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write every page of the site under outdir; return counts of pages and bytes."""
    outdir = Path(outdir).resolve()
    with app.app_context():
        conn = bundle.connect(app.config["BUNDLE"])
        try:
            languages = bundle.languages(conn)
        finally:
            conn.close()
    seeds = [f"/{lang['code']}/" for lang in languages]
    optional = _optional_paths(app, [lang["code"] for lang in languages])
    tmp = outdir.with_name(f".{outdir.name}.export-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        pages, written = _crawl(app, tmp, seeds, optional, progress)
        with app.test_request_context("/", environ_base={STATIC_EXPORT: True}):
            chooser = render_template("export/languages.html", languages=languages).encode("utf-8")
        written += _write(tmp / "index.html", chooser)
        _swap(tmp, outdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"pages": pages, "bytes": written}


def _optional_paths(app: Flask, languages: list[str]) -> set[str]:
    """Return the addresses that only scripts fetch, which no link leads to.

    The service worker and an offline page have no link to follow, so every
    address that needs nothing but a language is tried; a 404 there is no error.
    """
    optional = {"/sw.js"}
    for rule in app.url_map.iter_rules():
        if rule.arguments <= {"lang"} and "GET" in (rule.methods or ()) and not rule.rule.startswith("/api/"):
            for lang in languages:
                built = rule.build({"lang": lang}, append_unknown=False)
                if built is not None:
                    optional.add(built[1])
    return optional


def _crawl(
    app: Flask, tmp: Path, seeds: list[str], optional: set[str], progress: Callable[[str], None] | None
) -> tuple[int, int]:
    """Follow every link from the seeds, writing each page below tmp; return (pages, bytes)."""
    client = app.test_client()
    pages = written = 0
    seen: set[str] = set()
    queue = seeds + sorted(optional - set(seeds))
    broken = []
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, headers={"Accept-Encoding": "identity"}, environ_base={STATIC_EXPORT: True})
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(path, response.headers["Location"])).path
            if path in optional:
                optional.add(target)
            queue.append(target)
            continue
        if response.status_code != 200:
            if path not in optional:
                broken.append(f"{path} ({response.status_code})")
            continue
        body = response.get_data()
        written += _write(tmp / file_for(path), body)
        pages += 1
        if progress:
            progress(path)
        queue += [link for link in _links(path, response.mimetype or "", body) if link not in seen]
    if broken:
        raise ExportError("these links lead nowhere: " + ", ".join(sorted(broken)[:10]))
    return pages, written


def _links(base: str, mimetype: str, body: bytes) -> list[str]:
    raw: list[str] = []
    if mimetype == "text/html":
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        raw = parser.found
    elif mimetype in ("application/manifest+json", "application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return []
        raw = [icon.get("src", "") for icon in data.get("icons", [])] if isinstance(data, dict) else []
    found = []
    for link in raw:
        split = urlsplit(urljoin(base, link))
        if split.scheme or split.netloc or split.query or not split.path.startswith("/"):
            continue  # another site, or a query (search results) a static host cannot answer
        if not split.path.startswith(SKIPPED_PREFIXES):
            found.append(split.path)
    return found


def _write(path: Path, body: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    total = len(body)
    if path.suffix in COMPRESSIBLE:
        # mtime=0: the same site always exports to the same bytes.
        gz = gzip.compress(body, compresslevel=9, mtime=0)
        br = brotli.compress(body, quality=11)
        path.with_name(path.name + ".gz").write_bytes(gz)
        path.with_name(path.name + ".br").write_bytes(br)
        total += len(gz) + len(br)
    return total


def _swap(new: Path, target: Path) -> None:
    """Put the new export in place of the old one with two renames."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
