"""Pseudo-locales: fake translations, made from `messages.pot`, that show i18n bugs.

`en-xa` turns every interface string into accented text about a third longer
(it finds text cut off by a tight layout and text that never went through
gettext); `ar-xb` turns it right-to-left (it finds layout that is not
mirrored). Each pseudo string sits between ⟦ and ⟧, so a page's untranslated
text stands out to a person and to a test. They are built when the app starts
with the `PSEUDO_LOCALES` setting on, and never otherwise.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale

from app import fsutil

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

# babel.messages is imported by the functions that build catalogs: the server
# only needs the pseudo-locales' names, and that import costs it 12 ms at start.

OPEN, CLOSE = "⟦", "⟧"
GROWTH = 1.35  # translations often run 30-40% longer than English

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
_PADDING = "ōñē ţŵō ţĥŕēē ƒōûŕ ƒîṽē šîẋ šēṽēñ ēîĝĥţ ñîñē ţēñ "
# Placeholders, markup and entities pass through untouched.
_KEEP = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{[^{}]*\}|<[^>]*>|&#?\w+;")
_WORD = re.compile(r"[A-Za-z']+")
# Right-to-left override ... pop directional formatting: a Latin word shown backwards.
_RLO, _PDF = "\u202e", "\u202c"


def accented(text: str) -> str:
    """Return text accented and about 35% longer, between ⟦ and ⟧."""
    body = _outside_placeholders(text, lambda part: part.translate(_ACCENTED))
    room = round(len(text) * GROWTH) - len(body) - 2
    padding = (_PADDING * (room // len(_PADDING) + 1))[: max(room - 1, 0)]
    if padding.endswith(" "):  # a trailing space would collapse away in HTML
        padding = padding[:-1] + "ē"
    return f"{OPEN}{body} {padding}{CLOSE}" if padding else f"{OPEN}{body}{CLOSE}"


def mirrored(text: str) -> str:
    """Return text whose words read right to left, between ⟦ and ⟧."""
    return OPEN + _outside_placeholders(text, lambda part: _WORD.sub(rf"{_RLO}\g<0>{_PDF}", part)) + CLOSE


@dataclass(frozen=True)
class PseudoLanguage:
    code: str  # as in URLs
    locale: str  # the Babel locale for dates, numbers and plural rules
    dir: str
    transform: Callable[[str], str]

    @property
    def name(self) -> str:
        return f"{OPEN}{self.code}{CLOSE}"

    def as_language(self) -> dict[str, str]:
        """Return the language as the pages list the bundle's languages."""
        return {"code": self.code, "name": self.name, "dir": self.dir}


# `_001` ("world") locales: real CLDR data for dates and plurals, but folder
# names no real catalog uses.
LANGUAGES = (
    PseudoLanguage("en-xa", "en_001", "ltr", accented),
    PseudoLanguage("ar-xb", "ar_001", "rtl", mirrored),
)
BY_CODE = {p.code: p for p in LANGUAGES}


def catalog(template: Catalog, language: PseudoLanguage) -> Catalog:
    """Return a catalog translating every string of the template into a pseudo-locale."""
    from babel.messages.catalog import Catalog
    from babel.messages.plurals import get_plural

    locale = Locale.parse(language.locale)
    result = Catalog(locale=locale, charset="utf-8")
    plural = gettext.c2py(get_plural(locale).plural_expr)
    # For each plural form, the English form of a number that selects it.
    forms = [next((n for n in range(1000) if plural(n) == i), 2) for i in range(result.num_plurals)]
    for message in template:
        if not message.id:
            continue
        string: str | tuple[str, ...]
        if isinstance(message.id, tuple | list):
            singular, many = message.id[0], message.id[1]
            string = tuple(language.transform(singular if n == 1 else many) for n in forms)
        else:
            string = language.transform(message.id)
        result.add(message.id, string, context=message.context, flags=message.flags)
    return result


def write_catalogs(template_path: Path, target: Path) -> None:
    """Compile both pseudo-locales from a template into `<target>/<locale>/LC_MESSAGES`."""
    from babel.messages.mofile import write_mo

    from app.i18n.catalogs import read_catalog

    template = read_catalog(template_path)
    for language in LANGUAGES:
        with fsutil.atomic_file(Path(target) / language.locale / "LC_MESSAGES" / "messages.mo") as f:
            write_mo(f, catalog(template, language))


def remove_catalogs(target: Path) -> None:
    """Delete compiled pseudo-locales, so a production instance never serves them."""
    for language in LANGUAGES:
        (Path(target) / language.locale / "LC_MESSAGES" / "messages.mo").unlink(missing_ok=True)


def _outside_placeholders(text: str, change: Callable[[str], str]) -> str:
    parts, last = [], 0
    for match in _KEEP.finditer(text):
        parts += [change(text[last : match.start()]), match[0]]
        last = match.end()
    return "".join(parts) + change(text[last:])
