"""Static files under content-hashed URLs, so browsers may keep them for good."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, current_app, redirect, url_for
from flask.typing import ResponseReturnValue

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# The types of what `static/` holds, by suffix: the same on every machine, and
# without `mimetypes`, which reads the system's /etc/mime.types at start (11 ms).
TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".json": "application/json",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Asset:
    name: str
    digest: str
    body: bytes
    mimetype: str


def load(folder: Path = STATIC) -> dict[str, Asset]:
    """Read every static file once and give it a short content hash."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        body = path.read_bytes()
        mimetype = TYPES.get(path.suffix.lower(), "application/octet-stream")
        found[name] = Asset(name, hashlib.sha256(body).hexdigest()[:12], body, mimetype)
    return found


def init_app(app: Flask) -> None:
    """Serve the static files and offer `asset_url(name)` to templates."""
    app.extensions["waypost_assets"] = load()
    app.add_url_rule("/static/<digest>/<path:name>", "asset", serve)
    app.jinja_env.globals["asset_url"] = asset_url


def asset_url(name: str) -> str:
    """Return the URL of a static file, with its content hash in the path."""
    asset = current_app.extensions["waypost_assets"][name]
    return url_for("asset", digest=asset.digest, name=name)


def serve(digest: str, name: str) -> ResponseReturnValue:
    """Serve a static file; an old hash redirects to the current one."""
    asset = current_app.extensions["waypost_assets"].get(name)
    if asset is None:
        abort(404)
    if digest != asset.digest:
        return redirect(url_for("asset", digest=asset.digest, name=name))
    response = Response(asset.body, mimetype=asset.mimetype)
    response.headers["Cache-Control"] = IMMUTABLE
    return response
