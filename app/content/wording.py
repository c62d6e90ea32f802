"""Check the wording of translations: glossary terms and French punctuation spacing.

Both checks return (line within the text, 1-based; message) pairs, as
`render` does, and are warnings: a translator fixes them, nothing breaks.
"""

from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark").enable("table")

# Arabic-script letters that are written in more than one way, and the marks
# that readers and writers add or leave out freely.
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ي": "ی", "ك": "ک", "\u200c": ""})
_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")
MIN_STEM = 3


def fold(text: str) -> str:
    """Return text in the form the glossary check compares: NFC, casefolded, Arabic script evened out."""
    text = unicodedata.normalize("NFC", text).casefold()
    return _MARKS.sub("", text).translate(_FOLD)


def stem(word: str) -> str:
    """Return the start of a word that its inflected forms share (a pragmatic cut, not a real stemmer).

    Endings are where Ukrainian, Spanish and French inflect, and Arabic and
    Persian prefixes (و، بـ، ال) come before the stem, so a link text passes
    when it contains this much of the term's first word anywhere.
    """
    return word if len(word) <= MIN_STEM else word[: max(MIN_STEM, len(word) - 3)]


def term_forms(term: str) -> list[str]:
    """Return the folded forms a link text may contain: the whole term, or its first word's stem.

    A term written "UNHCR (المفوضية)" or "a / b" offers each part.
    """
    forms = []
    for part in re.split(r"[()/,]", term):
        part = fold(part).strip()
        if part:
            forms.append(part)
            first = re.split(r"[\s\-]+", part)[0]
            # The Arabic article joins the word; a link text may drop it or add a prefix.
            forms.append(stem(first[2:] if first.startswith("ال") and len(first) > 3 else first))
    return forms


def glossary_links(body: str):
    """Yield (line, link text, glossary id) for every `[text](glossary:ID)` link in a Markdown body."""
    if "glossary" not in body and "&" not in body:
        return  # no such link (even one spelled with character references) without these: skip parsing
    for token in _md.parse(body):
        if token.type != "inline" or not token.map:
            continue
        line, target, text = token.map[0] + 1, None, list[str]()
        for child in token.children or ():
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "link_open":
                href = str(child.attrGet("href") or "")
                target, text = (href[len("glossary:") :], []) if href.startswith("glossary:") else (None, [])
            elif child.type == "link_close" and target is not None:
                yield line, "".join(text), target
                target = None
            elif target is not None and child.type in ("text", "code_inline"):
                text.append(child.content)


def glossary_mismatches(body: str, terms: dict[str, str]) -> list[tuple[int, str]]:
    """Report glossary links whose text does not use the term the language's glossary gives."""
    problems = []
    for line, text, term_id in glossary_links(body):
        term = terms.get(term_id)
        if term is None:
            continue  # not translated yet: nothing to compare with
        folded = fold(text)
        if not any(form in folded for form in term_forms(term)):
            problems.append((line, f"glossary link '{text}' does not use this language's term for {term_id}: '{term}'"))
    return problems


NARROW = "\u202f\u00a0"  # narrow no-break space, or the no-break space many keyboards type
_BEFORE = ":;!?»"
_SPACED = re.compile("[:;!?»«]")
# What the spacing check must not read: code, link targets, web addresses.
_SKIP = re.compile(r"`[^`]*`|\]\([^)]*\)|<[a-z]+:[^>]*>|https?://\S+")


def french_spacing(text: str) -> list[tuple[int, str]]:
    """Report `: ; ! ? »` without a (narrow) no-break space before, and `«` without one after."""
    problems = []
    fenced = False
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or raw.startswith("    ") or re.fullmatch(r"[\s|:\-]+", raw):
            continue  # code, or a table's alignment row
        line = _SKIP.sub(lambda m: "]" if m.group().startswith("]") else " ", raw)
        for found in _SPACED.finditer(line):  # only the marks: a loop over every character is slow
            i, char = found.start(), found.group()
            if char in _BEFORE and i > 0:
                before = line[i - 1]
                if before in NARROW or before in _BEFORE or (char == ":" and line[i + 1 : i + 2].isdigit()):
                    continue  # "?!" and times such as 14:30 are fine
                kind = "an ordinary space" if before == " " else "no space"
                problems.append(
                    (number, f"French spacing: {kind} before '{char}'; use a narrow no-break space (U+202F)")
                )
            elif char == "«":
                after = line[i + 1 : i + 2]
                if after not in NARROW or not after:
                    kind = "an ordinary space" if after == " " else "no space"
                    problems.append((number, f"French spacing: {kind} after '«'; use a narrow no-break space (U+202F)"))
    return problems
