"""Print the JavaScript table that makes `toLowerCase()` fold as Python's `casefold()`.

JavaScript has no casefold. Lower-casing first and then mapping the few
lower-case characters that case folding still changes ("ß" -> "ss", final
"ς" -> "σ", Cherokee, Greek with iota subscript...) gives the same text for
every code point; only the entries that survive the search fold (NFKD, marks
removed) are kept. app/web/static/search.js embeds the output between its
`casefold-table` markers; tests/test_search.py checks it is current.

Usage: python3 scripts/casefold_table.py
"""

from __future__ import annotations

import json
import sys
import unicodedata


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def table() -> dict[str, str]:
    """Return {lower-case character: its case folding} where the search fold needs it."""
    found = {}
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if 0xD800 <= code <= 0xDFFF or c.lower() != c or c.casefold() == c:
            continue
        if _without_marks(c.casefold()) != _without_marks(c):
            found[c] = c.casefold()
    return found


def javascript() -> str:
    """Return the table as the one line of JavaScript search.js embeds."""
    return f"const CASEFOLD = {json.dumps(table(), ensure_ascii=True, separators=(',', ':'))};"


if __name__ == "__main__":
    print(javascript())
