"""The live bundle of the current request, for the views: its connection, its facts, what is derived from it.

The bundles themselves are opened and watched by `live.Store`, which
imports no web framework, so the response cache can answer a kept page
before Flask is loaded (cache.py). This module is the Flask side.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, current_app, g, has_request_context, request

from app.web.live import ENVIRON_KEY, Live, Store


def init_app(app: Flask, found: Store | None = None) -> None:
    """Give the app its bundle store: found (the one the response cache in front holds), or a new one."""
    if found is None:
        found = Store(app.config["BUNDLE"], float(app.config["SWAP_CHECK_SECONDS"]))
    app.extensions["waypost_store"] = found


def live() -> Live:
    """Return the bundle this request reads: the same one from its first query to its last.

    Raises BundleError when there is no usable bundle; the pages turn that
    into a "no guidance loaded" page rather than an error.
    """
    if "live" not in g:
        found = request.environ.get(ENVIRON_KEY) if has_request_context() else None
        g.live = found if found is not None else current_app.extensions["waypost_store"].current()
    return g.live


def get_db() -> sqlite3.Connection:
    """Return this request's connection to the live bundle."""
    return live().conn


def source_language() -> str:
    """Return the bundle's source language, the one every translation comes from."""
    return live().source_language


def derived(key: Any, compute: Any) -> Any:
    """Return compute() for key, remembered until the live bundle changes."""
    values = live().derived
    if key not in values:
        values[key] = compute()
    return values[key]


def stamp() -> tuple:
    """Return the live bundle's freshness stamp as the response cache keys pages by it."""
    found: Store = current_app.extensions["waypost_store"]
    return found.stamp()
