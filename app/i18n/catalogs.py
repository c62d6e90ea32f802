"""Interface catalogs: extract strings, update and create catalogs, count translations.

Everything is keyed on the translations folder: it holds `babel.cfg` (what to
extract, with paths relative to the folder's parent, the project root),
`messages.pot` and one `<locale>/LC_MESSAGES/messages.po` per language.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import PYTHON_FORMAT, Catalog, Message
from babel.messages.pofile import read_po, write_po

from app import __version__, fsutil

TEMPLATE = "messages.pot"
# Beside Babel's own gettext keywords (babel.messages.extract.DEFAULT_KEYWORDS, added in extract()).
EXTRA_KEYWORDS = {"lazy_gettext": None, "lazy_ngettext": (1, 2)}
# A comment that starts with this, just above a string, reaches the translator.
COMMENT_TAG = "Translators:"


@dataclass(frozen=True)
class Counts:
    translated: int
    fuzzy: int
    missing: int

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.missing


def catalog_path(translations: Path, locale: str) -> Path:
    """Return where the catalog of a Babel locale identifier lives."""
    return Path(translations) / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Read a .po or .pot file, raising PoFileError when it is not valid."""
    with Path(path).open("rb") as f:
        return read_po(f, locale=locale, abort_invalid=True)


def extract(translations: Path) -> Catalog:
    """Extract every interface string of the project, as `babel.cfg` describes."""
    # Imported here: these cost 30 ms, and only extracting needs them.
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    translations = Path(translations)
    with (translations / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(translations / "babel.cfg"))
    catalog = Catalog(project="Waypost", version=__version__, charset="utf-8")
    found = extract_from_dir(
        translations.parent, method_map, options_map, keywords={**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS},
        comment_tags=(COMMENT_TAG,), strip_comment_tags=True,
    )  # fmt: skip
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def write_template(translations: Path) -> tuple[Path, bool]:
    """Extract the strings into `messages.pot`; return its path and whether it changed.

    The file is left alone when only its creation date would change, so the
    template changes in version control only when the strings do.
    """
    pot = Path(translations) / TEMPLATE
    catalog = extract(translations)
    if pot.exists():
        catalog.creation_date = read_catalog(pot).creation_date
    return pot, _write_if_changed(pot, _po_bytes(catalog))


def update(translations: Path) -> list[tuple[Path, bool]]:
    """Bring every catalog in line with `messages.pot`; return each path and whether it changed.

    New strings arrive untranslated, strings close to an old one arrive as
    fuzzy suggestions, and strings no longer used are kept as obsolete entries.
    A suggestion whose placeholders are not the new string's is dropped
    (`drop_misleading_guesses`): it was the translation of another sentence.
    """
    translations = Path(translations)
    template = read_catalog(translations / TEMPLATE)
    results = []
    for path in catalogs(translations):
        catalog = read_catalog(path, locale=path.parent.parent.name)
        catalog.update(template, update_creation_date=True)
        drop_misleading_guesses(catalog)
        results.append((path, _write_if_changed(path, _po_bytes(catalog))))
    return results


def _placeholders(texts: str | tuple[str, ...] | list[str] | None) -> set[str]:
    """Return the named python-format placeholders in a message's text or forms (`%(place)s` is "place")."""
    forms = [texts] if isinstance(texts, str) else list(texts or ())
    return {name for form in forms for name, _flags, kind in PYTHON_FORMAT.findall(form or "") if name and kind != "%"}


def drop_misleading_guesses(catalog: Catalog) -> list[Message]:
    """Empty the fuzzy suggestions whose placeholders differ from their new string's; return those dropped.

    Babel suggests the translation of the closest old string, which for a
    short one can be another sentence altogether ("Places in %(place)s"
    given the translation of "Expires on %(date)s."). A suggestion that
    names a placeholder the new string lacks, or lacks one it has, is such a
    guess: a translator who accepts it in haste ships a wrong sentence whose
    formatting also fails. Suggestions with the same placeholders stay, for
    the translator to check against the previous string.
    """
    dropped = []
    for message in messages(catalog):
        if not message.fuzzy or not message.previous_id or not is_translated(message, partly=True):
            continue
        if _placeholders(message.string) != _placeholders(message.id):
            message.string = ("",) * len(message.string) if isinstance(message.string, tuple | list) else ""
            message.flags.discard("fuzzy")
            message.previous_id = []
            dropped.append(message)
    return dropped


def init_catalog(translations: Path, locale: Locale, plural: str | None = None) -> Path:
    """Create the catalog of a new language from `messages.pot`, with its plural forms (CLDR's unless given)."""
    path = catalog_path(translations, str(locale))
    if path.exists():
        raise ValueError(f"{path} exists already")
    with (Path(translations) / TEMPLATE).open("rb") as f:
        catalog = read_po(f, locale=locale)
    catalog.locale = locale
    catalog.revision_date = datetime.now(UTC)
    catalog.fuzzy = False
    if plural:
        catalog.mime_headers = [("Plural-Forms", plural)]
    _write_if_changed(path, _po_bytes(catalog))
    return path


def catalogs(translations: Path) -> list[Path]:
    """Return every language catalog below the translations folder."""
    return sorted(Path(translations).glob("*/LC_MESSAGES/messages.po"))


def counts(template: Catalog, catalog: Catalog | None) -> Counts:
    """Count the template's strings that a catalog translates, has as fuzzy, or lacks."""
    translated = fuzzy = missing = 0
    for message in messages(template):
        found = catalog.get(message.id, message.context) if catalog is not None else None
        if found is None or not is_translated(found):
            missing += 1
        elif found.fuzzy:
            fuzzy += 1
        else:
            translated += 1
    return Counts(translated, fuzzy, missing)


# What the Last-Translator header of a machine-translated catalog says; Poedit
# and Weblate put the person's name there once a person saves it.
MACHINE_TRANSLATOR = "machine translation"


def machine_made(catalog: Catalog) -> bool:
    """Return whether a catalog's translations were made by machine, as its Last-Translator header says."""
    return MACHINE_TRANSLATOR in (catalog.last_translator or "").lower()


def messages(catalog: Catalog) -> list[Message]:
    """Return a catalog's messages, without its header."""
    return [m for m in catalog if m.id]


def is_translated(message: Message, partly: bool = False) -> bool:
    """Return whether every form of a message (or, with partly, any form) is translated."""
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return any(strings) if partly else all(strings)


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # Unwrapped: one line per string, clean diffs. No `#| msgid` lines: Babel's reader
    # drops them, so the next update would remove them again.
    write_po(out, catalog, width=0)
    return out.getvalue()


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    fsutil.atomic_write(path, data)
    return True
