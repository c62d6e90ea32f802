"""Language codes as written in URLs, read as Babel locales; light enough for the server's first page."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError


def locale_of(code: str) -> Locale:
    """Return the Babel locale of a language code as written in URLs (`pt-br`).

    Raises ValueError for a code that Babel's CLDR data does not know.
    """
    try:
        return Locale.parse(code.replace("_", "-"), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValueError(f"'{code}' is not a language that Babel's CLDR data knows") from None
