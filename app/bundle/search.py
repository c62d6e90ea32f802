"""Search text folding, safe FTS5 queries and highlighted snippets.

The index stores folded text: lower case, without accents or Arabic short
vowels, with the Arabic and Persian forms of the same letter made one, so that
"resume" finds "résumé", "كتب" finds "كَتَبَ" and "ي" finds "ی". Queries are
folded the same way and reduced to plain words, so no reader's input is ever
parsed as FTS5 syntax.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from markupsafe import Markup, escape

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
# No link goes further; a later page is the last one (read.search).
MAX_PAGE = 1000

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
_LETTER_PAIRS = tuple((chr(key), value or "") for key, value in _LETTERS.items())


@functools.cache
def _marks() -> re.Pattern[str]:
    """Return a pattern for runs of combining marks (Mn) of the Basic Multilingual Plane; built on first use.

    The marks are written as ranges of consecutive code points (about 200 of
    them, not a thousand single ones): the same set, matched about twice as fast.
    """
    ranges: list[list[int]] = []
    for c in range(0x300, 0x10000):
        if unicodedata.category(chr(c)) == "Mn":
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+")


def fold(text: str) -> str:
    """Return text as the search index stores it.

    Lower case (casefold), compatibility forms decomposed, combining marks
    (accents, Arabic short vowels) dropped, then the letters above made one;
    each step runs in C over the whole text, as folding is most of a build.
    """
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = _marks().sub("", unicodedata.normalize("NFKD", folded))
    # Marks beyond the BMP are rare: the slow, general way. UTF-16 takes four bytes only for a character
    # there, so the length of its encoding tells, in a seventh of the time a search for one takes.
    if len(decomposed.encode("utf-16-le", "surrogatepass")) > 2 * len(decomposed):
        decomposed = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    for letter, replacement in _LETTER_PAIRS:
        if letter in decomposed:
            decomposed = decomposed.replace(letter, replacement)
    return unicodedata.normalize("NFC", decomposed)


def page_number(raw: str | None) -> int:
    """Return the results page a reader asked for (`?page=`): 1 unless it is a whole number from 1 to MAX_PAGE."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_PAGE))):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def query_terms(query: str) -> list[str]:
    """Return the folded words of a reader's query, at most MAX_TERMS of them."""
    return _WORD.findall(fold(query[:MAX_QUERY_CHARS]))[:MAX_TERMS]


def match_expression(terms: list[str], lang: str | None = None) -> str:
    """Return an FTS5 MATCH expression that finds every term as a word prefix in an article's index row.

    With lang, only the articles a search in lang shows match (scope_expression).
    """
    # Terms hold only word characters, so quoting them is enough to keep
    # FTS5 operators ("NEAR", "*", "-", brackets) out of the expression.
    words = "(" + " ".join(f'"{term}"*' for term in terms) + ")"
    return words if lang is None else f"{words} AND {scope_expression(lang)}"


def title_expression(terms: list[str]) -> str:
    """Return the FTS5 MATCH expression for the titles holding any of the terms (their rank counts more)."""
    return " OR ".join(f'"{term}"*' for term in terms)


def snippet(text: str, terms: list[str], words: int = 28) -> Markup:
    """Return an escaped excerpt of text around the first match, matches in <mark>.

    A word matches when one of its folded parts starts with a term. Only
    what the excerpt needs is folded: the text up to its first match, block
    by block, then the words shown.
    """
    tokens = text.split()
    pattern = _pattern(terms)
    return _excerpt(tokens, _first_hit(tokens, pattern), pattern, words, more=False)


def html_snippet(html_source: str, terms: list[str], words: int = 28, head: int = 1024) -> Markup:
    """Return snippet(html_text(html_source), terms), reading the HTML only as far as the excerpt needs.

    The HTML is read a run of whole blocks at a time (each run twice the last),
    and each run's words are folded once: a match deep in a long article
    costs one pass over its text, and one near the top costs only the top.
    The first run is about 1 KB, as a common word's first use is near the top:
    ten such snippets took 2.1 ms from 1 KB against 4.6 ms from 4 KB (Arabic,
    10,000-article bench corpus), and the same excerpts.
    """
    pattern = _pattern(terms)
    tokens: list[str] = []
    first: int | None = None
    start, size = 0, head
    while start < len(html_source):
        cut = _BLOCK_END.search(html_source, start + size)
        end = cut.end() if cut is not None else len(html_source)
        # Cut at a block's end, so the runs' words are the words of the whole text (html_text).
        run = html_words(html_source[start:end])
        if first is None:
            found = _first_hit(run, pattern)
            first = None if found is None else len(tokens) + found
        tokens += run
        start, size = end, size * 2
        if first is not None and max(0, first - words // 3) + words < len(tokens):
            break
    # Stopped early only with words beyond the excerpt, so its closing "…" is as for the whole text.
    return _excerpt(tokens, first, pattern, words, more=False)


def _excerpt(tokens: list[str], first: int | None, pattern: re.Pattern[str], words: int, more: bool) -> Markup:
    start = max(0, (first or 0) - words // 3)
    window = tokens[start : start + words]
    # One folded token a line (folding never makes a newline and tokens hold no whitespace), so the
    # line a match is on is its token; escaping adds no spaces, so the escaped words stay aligned too.
    folded = fold("\n".join(window))
    marked = {folded.count("\n", 0, found.start()) for found in pattern.finditer(folded)}
    escaped = str(escape(" ".join(window))).split(" ")
    excerpt = " ".join(f"<mark>{word}</mark>" if i in marked else word for i, word in enumerate(escaped))
    if start > 0:
        excerpt = "… " + excerpt
    if more or start + words < len(tokens):
        excerpt += " …"
    return Markup(excerpt)


def _pattern(terms: list[str]) -> re.Pattern[str]:
    """Return a pattern finding any of the (folded, word-character) terms at the start of a word."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + ")")


def _first_hit(tokens: list[str], pattern: re.Pattern[str], block: int = 128) -> int | None:
    """Return the index of the first token that matches, folding the tokens a block at a time."""
    for i in range(0, len(tokens), block):
        folded = fold("\n".join(tokens[i : i + block]))  # one folded token a line, as in _excerpt
        found = pattern.search(folded)
        if found is not None:
            return i + folded.count("\n", 0, found.start())
    return None


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


# Where plain_text (app/content/render.py) ends a block: the text of each is one paragraph.
_BLOCK_END = re.compile(
    r"</(?:p|h[1-6]|li|td|th|caption|dt|dd|pre|blockquote|figcaption)>|<(?:ul|ol|table|blockquote)\b[^>]*>",
    re.IGNORECASE,
)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SENTENCE_END = ".!?:;…؟۔。"


def html_text(html_source: str) -> str:
    """Return the plain text of an article's HTML, one block a paragraph, as the index and snippets see it.

    The bundle stores an article's HTML only; its text is this function of
    it, so the index that a kiosk rebuilds from synced rows is the
    publisher's. Like plain_text, a block without closing punctuation gets a
    full stop so a heading reads as a sentence of its own.
    """
    blocks = [block for block in (" ".join(part.split()) for part in _blocks(html_source)) if block]
    return "\n\n".join(block if block[-1] in _SENTENCE_END else block + "." for block in blocks)


def html_words(html_source: str) -> list[str]:
    """Return html_text(html_source).split(), without joining the text only to split it again."""
    found: list[str] = []
    for part in _blocks(html_source):
        words = part.split()
        if words:
            if words[-1][-1] not in _SENTENCE_END:
                words[-1] += "."
            found += words
    return found


def _blocks(html_source: str) -> list[str]:
    """Return the text of each block of the HTML, tags gone and references read, its spacing as it was."""
    marked = _TAG.sub("", _BLOCK_END.sub("\0", _BREAK.sub(" ", html_source)))
    return html.unescape(marked).split("\0")


# Starts every scope token: a private-use character, which FTS5's tokenizer keeps in a word but no
# query term (word characters only) and no indexed text (index_text) ever holds, so no reader's
# query matches a scope token, not even as a prefix.
SCOPE_MARK = "\ue000"


def index_text(folded: str) -> str:
    """Return folded text as the index holds it: without the scope mark, which only scope tokens carry."""
    return folded.replace(SCOPE_MARK, " ")


def scope_tokens(lang: str, untranslated_in: list[str]) -> str:
    """Return an article's scope tokens: its language, and the languages it stands in for untranslated.

    A search in a language finds that language's articles and the source
    articles it lacks a translation of; the index answers both with these
    tokens (scope_expression), so no hit is looked up to be dropped.
    """
    return " ".join([_scope("x", lang), *(_scope("y", code) for code in untranslated_in)])


def scope_expression(lang: str) -> str:
    """Return the FTS5 filter for the articles a search in lang shows (see scope_tokens)."""
    return f'("{_scope("x", lang)}" OR "{_scope("y", lang)}")'


def _scope(kind: str, lang: str) -> str:
    # Hex keeps any language code (pt-BR, zh-Hans) one token of word characters.
    return SCOPE_MARK + kind + lang.encode("utf-8").hex()
