"""The live bundle as the request path sees it: one read-only connection a request."""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g

from app.bundle import read as bundle


def init_app(app: Flask) -> None:
    """Close each request's bundle connection when the request ends."""
    app.teardown_appcontext(_close)


def get_db() -> sqlite3.Connection:
    """Return this request's connection to the live bundle, opening it on first use.

    Raises BundleError when there is no usable bundle; the pages turn that
    into a "no guidance loaded" page rather than an error.
    """
    if "db" not in g:
        g.db = bundle.connect(current_app.config["BUNDLE"])
    return g.db


def source_language() -> str:
    """Return the bundle's source language, the one every translation comes from."""
    if "source_language" not in g:
        g.source_language = bundle.meta(get_db())["source_language"]
    return g.source_language


def _close(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()
