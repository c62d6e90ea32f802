"""The reading side: the Flask app that serves pages from a bundle.

Importing this package imports nothing else: `waypost serve` answers the
pages its response cache holds (cache.front()) before Flask, Jinja and
Babel are loaded, and create_app() loads them when a request needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from app.web.cache import ResponseCache


def create_app(test_config: Mapping[str, Any] | None = None, front: ResponseCache | None = None) -> Flask:
    """Create the Waypost web application.

    Settings come from the defaults, then `config.py` in the instance folder,
    then `WAYPOST_*` environment variables, then `test_config`. `front` is
    the response cache that answered before the app was loaded (the server's),
    which the app then shares; without it the app gets a cache of its own.
    """
    from pathlib import Path

    from flask import Flask

    from app import __version__, settings
    from app.i18n import runtime as i18n
    from app.web import (
        api,
        assets,
        cache,
        delivery,
        offline,
        pages,
        places,
        places_api,
        poster,
        remittance_api,
        remittances,
        status,
        store,
    )

    app = Flask(
        __name__,
        instance_path=str(settings.instance_path().resolve()),
        instance_relative_config=True,
        static_folder=None,
    )
    app.config.from_mapping(settings.resolve(test_config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["VERSION"] = __version__
    # Every byte counts on prepaid data: drop the template's own indentation.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    store.init_app(app, front.store if front is not None else None)
    i18n.init_app(app)
    assets.init_app(app)
    delivery.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(remittances.bp)
    app.register_blueprint(remittance_api.bp)
    app.register_blueprint(places.bp)
    app.register_blueprint(places_api.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(poster.bp)
    cache.init_app(app, front)
    return app
