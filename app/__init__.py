"""Waypost: offline-first guidance for people on the move.

The rooms (see ARCHITECTURE.md): `content` (authoring) -> `bundle` (the SQLite
file) -> `distribution` (signing, kiosks, hubs) ; `web` (pages) ; `i18n` ; `cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"

if TYPE_CHECKING:
    from app.web import create_app as create_app


def __getattr__(name: str) -> Any:
    # `from app import create_app` keeps working without making every
    # `import app.something` (a cron sync, `keys trust`) load Flask.
    if name == "create_app":
        from app.web import create_app

        return create_app
    raise AttributeError(name)
