"""Search text folding, safe FTS5 queries and highlighted snippets.

The index stores folded text: lower case, without accents or Arabic short
vowels, with the Arabic and Persian forms of the same letter made one, so that
"resume" finds "résumé", "كتب" finds "كَتَبَ" and "ي" finds "ی". Queries are
folded the same way and reduced to plain words, so no reader's input is ever
parsed as FTS5 syntax.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

MAX_QUERY_CHARS = 200
MAX_TERMS = 8

_LETTERS = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh -> Persian yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf -> Persian keheh
        "ة": "ه",  # teh marbuta
        "ـ": None,  # tatweel, a stretching stroke with no meaning
        "\u200c": " ",  # zero-width non-joiner: Persian compounds match by part
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
    }
)
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Return text as the search index stores it."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped.translate(_LETTERS))


def query_terms(query: str) -> list[str]:
    """Return the folded words of a reader's query, at most MAX_TERMS of them."""
    return _WORD.findall(fold(query[:MAX_QUERY_CHARS]))[:MAX_TERMS]


def match_expression(terms: list[str]) -> str:
    """Return an FTS5 MATCH expression that finds every term as a word prefix."""
    # Terms hold only word characters, so quoting them is enough to keep
    # FTS5 operators ("NEAR", "*", "-", brackets) out of the expression.
    return " ".join(f'"{term}"*' for term in terms)


def snippet(text: str, terms: list[str], words: int = 28) -> Markup:
    """Return an escaped excerpt of text around the first match, matches in <mark>."""
    tokens = text.split()
    hits = [i for i, token in enumerate(tokens) if _matches(token, terms)]
    start = max(0, (hits[0] if hits else 0) - words // 3)
    window = tokens[start : start + words]
    parts = []
    for i, token in enumerate(window, start):
        parts.append(Markup("<mark>%s</mark>") % token if i in hits else escape(token))
    excerpt = Markup(" ").join(parts)
    if start > 0:
        excerpt = Markup("… ") + excerpt
    if start + words < len(tokens):
        excerpt += Markup(" …")
    return excerpt


def _matches(token: str, terms: list[str]) -> bool:
    return any(word.startswith(term) for word in _WORD.findall(fold(token)) for term in terms)


_GLOSSARY_LINK = re.compile(r'href="\.\./glossary#([^"]+)"')


def synonyms_of(html: str, text: str, glossary: list[dict]) -> list[str]:
    """Return the synonyms of the glossary terms an article links to or uses, for its search index.

    `glossary` holds entries of every language (id, term, synonyms); a term's
    synonyms count in every language, since people type "hawala" whatever
    page they are on. Online and offline search both index these words.
    """
    linked = set(_GLOSSARY_LINK.findall(html))
    folded = fold(text)
    used = linked | {e["id"] for e in glossary if e["synonyms"] and fold(e["term"]) in folded}
    return sorted({word for e in glossary if e["id"] in used for word in e["synonyms"]})
