"""Waypost: offline-first guidance for people on the move.

The rooms (see ARCHITECTURE.md): `content` (authoring) -> `bundle` (the SQLite
file) -> `distribution` (signing, kiosks, hubs) ; `web` (`create_app`, pages) ;
`i18n` ; `cli`. Importing `app` loads nothing else, so a cron `sync` never
loads Flask.
"""

# The one place the version is written: pyproject.toml reads it from here.
__version__ = "0.1.0"
