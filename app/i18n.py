"""Interface translations: gettext catalogs compiled at start, locale from the URL."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask_babel import Babel

babel = Babel()
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Compile the catalogs into the instance folder and bind Flask-Babel to the app."""
    compiled = Path(app.instance_path) / "translations"
    for problem in compile_catalogs(Path(app.config["TRANSLATIONS_DIR"]), compiled):
        # A broken catalog must not take the kiosk down: that language shows
        # English interface text until it is fixed. CI fails on it instead.
        log.error("%s", problem)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)


def select_locale() -> str:
    """Return the language of the current page, as taken from its URL."""
    return g.get("lang") or "en"


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every `<lang>/LC_MESSAGES/messages.po` below source that changed.

    Returns one message for each catalog that could not be compiled.
    """
    problems = []
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as f:
                catalog = read_po(f, abort_invalid=True)
            mo.parent.mkdir(parents=True, exist_ok=True)
            tmp = mo.with_suffix(".tmp")
            with tmp.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            tmp.replace(mo)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never fatal
            problems.append(f"{po}: cannot compile catalog: {exc}")
    return problems
