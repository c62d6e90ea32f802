"""Interface translations: gettext catalogs compiled at start, locale from the URL."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from babel import Locale
from flask import Flask, current_app, g
from flask_babel import Babel, Domain

from app import fsutil
from app.i18n import pseudo
from app.i18n.locales import locale_of

babel = Babel()
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Compile the catalogs into the instance folder and bind Flask-Babel to the app."""
    source = Path(app.config["TRANSLATIONS_DIR"])
    compiled = Path(app.instance_path) / "translations"
    for problem in compile_catalogs(source, compiled):
        # A broken catalog must not take the kiosk down: that language shows
        # English interface text until it is fixed. CI fails on it instead.
        log.error("%s", problem)
    if app.config["PSEUDO_LOCALES"]:
        try:
            pseudo.write_catalogs(source / "messages.pot", compiled)
        except Exception as exc:  # noqa: BLE001 - a testing aid must never stop the site
            log.error("%s: cannot build the pseudo-locales: %s", source / "messages.pot", exc)
    else:
        pseudo.remove_catalogs(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches translations per locale in one process-wide domain;
    # a domain of the app's own keeps apps with different catalogs apart.
    domain = Domain(translation_directories=[str(compiled)])
    app.before_request(domain.as_default)


def select_locale() -> str:
    """Return the Babel locale of the current page, as taken from its URL (and its language's fallback)."""
    code = g.get("lang") or "en"
    # The page's languages, as the web layer read them from the bundle this request.
    listed: dict[str, str] = next((x for x in g.get("languages", ()) if x["code"] == code), {})
    return babel_locale(code, listed.get("fallback") or None)


@functools.lru_cache(maxsize=64)
def babel_locale(code: str, fallback: str | None = None) -> str:
    """Return the Babel locale identifier of a URL language code (`pt-br` -> `pt_BR`).

    A language CLDR lacks (`prs`) takes the data of its fallback locale (`fa-af`,
    or English without one) with its own code as the modifier: `fa_AF@prs`,
    the gettext way of naming a variety (as in `sr@latin`). Dates and numbers
    then follow the fallback, and its catalog lives under that name.
    """
    if code in pseudo.BY_CODE:
        return pseudo.BY_CODE[code].locale
    try:
        return str(locale_of(code))
    except ValueError:
        pass
    try:
        base = locale_of(fallback or "en")
    except ValueError:
        base = locale_of("en")
    return str(Locale(base.language, base.territory, base.script, base.variant, modifier=code))


def extra_languages() -> list[dict[str, str]]:
    """Return the languages served beside the bundle's: the pseudo-locales, when on."""
    if not current_app.config["PSEUDO_LOCALES"]:
        return []
    return [language.as_language() for language in pseudo.LANGUAGES]


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every `<lang>/LC_MESSAGES/messages.po` below source that changed.

    Returns one message for each catalog that could not be compiled.
    """
    problems = []
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        # Imported only when a catalog changed: most starts compile nothing.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        try:
            with po.open("rb") as f:
                catalog = read_po(f, abort_invalid=True)
            with fsutil.atomic_file(mo) as f:
                write_mo(f, catalog, use_fuzzy=False)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never fatal
            problems.append(f"{po}: cannot compile catalog: {exc}")
    return problems
