"""What a content folder holds once loaded: languages, topics, articles, glossary terms and problems."""

from __future__ import annotations

import hashlib
import os
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.content import yamlfile

if TYPE_CHECKING:
    from app.content.places import Place
    from app.content.plainlanguage import Readability


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}: {kind}{self.message}"


@dataclass
class Language:
    code: str
    name: str
    dir: str
    # For a language CLDR lacks (`prs`): the gettext plural rule of its catalog,
    # and the CLDR locale whose dates and numbers its pages use.
    plural: str | None = None
    fallback: str | None = None


@dataclass
class Topic:
    slug: str
    names: dict[str, str]
    descriptions: dict[str, str]
    sensitive: bool = False


def _overlaps(a: tuple, b: tuple) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class Texts:
    """Article texts (Markdown body, HTML, plain text) kept in an unnamed temporary file, not in memory.

    A content set of 10,000 articles holds about 300 MB of them, which a build
    needs one article at a time; holding only where each lies keeps a build's
    memory to its metadata. The file is created on first use (in TMPDIR) and
    is gone when the store is.
    """

    def __init__(self) -> None:
        self._fd: int | None = None
        self._end = 0

    def put(self, text: str) -> tuple[int, int]:
        """Store a text; return where it lies (offset, length in bytes)."""
        if self._fd is None:
            file = tempfile.TemporaryFile(prefix="waypost-texts-", buffering=0)
            self._fd = file.fileno()
            weakref.finalize(self, file.close)
        data = memoryview(text.encode("utf-8"))
        at = (self._end, len(data))
        while data:
            written = os.pwrite(self._fd, data, self._end)
            self._end += written
            data = data[written:]
        return at

    def get(self, at: tuple[int, int]) -> str:
        """Return the text stored at (offset, length)."""
        offset, length = at
        if not length or self._fd is None:
            return ""
        return os.pread(self._fd, length, offset).decode("utf-8")


class _Stored:
    """An article's text, read from its Texts store when used: `article.html = ...` stores it there."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, article: Article | None, owner: type | None = None) -> str:
        if article is None or self.name not in article.stored:
            return ""
        return article.texts.get(article.stored[self.name])

    def __set__(self, article: Article, text: str) -> None:
        article.stored[self.name] = article.texts.put(text)


@dataclass
class Article:
    path: Path
    lang: str
    slug: str
    topic: str
    title: str
    summary: str
    updated: date
    review_by: date
    sources: list[dict[str, str]]
    body_line: int
    lines: yamlfile.Lines
    translation_of: str | None = None
    translation_status: str | None = None
    # {status, by (a role), date}: written only by the person who reviewed it.
    review: dict[str, Any] | None = None
    sensitive: bool = False
    # Key paths of the front matter that failed validation (() for all of it).
    # An article with any is kept in `Content.partial`, so every other check
    # still runs on what did load; the problems were reported already.
    invalid: frozenset[tuple] = frozenset()
    # For an English source article, its text's readability, measured when it was rendered.
    readability: Readability | None = field(default=None, repr=False, compare=False)
    # Where the texts below lie in `texts` (the content set's store; one of its own by default).
    texts: Texts = field(default_factory=Texts, repr=False, compare=False)
    stored: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    # The Markdown body, and the sanitised HTML and plain text rendered from it ("" until rendered).
    body = _Stored()
    html = _Stored()
    text = _Stored()

    def valid(self, *key: Any) -> bool:
        """Return whether the front matter at a key path (and everything in or above it) loaded."""
        return not any(_overlaps(key, bad) for bad in self.invalid)

    @property
    def source_hash(self) -> str:
        return article_hash(self.title, self.summary, self.body)

    @property
    def source_text(self) -> str:
        """Return the text the source hash is taken over: title, summary and body lines."""
        return hashed_text(self.title, self.summary, self.body)


@dataclass
class Term:
    path: Path
    line: int
    lang: str
    id: str
    term: str
    definition: str
    synonyms: list[str] = field(default_factory=list)
    translation_of: str | None = None
    translation_status: str | None = None

    @property
    def source_hash(self) -> str:
        return short_hash(f"{self.term.strip()}\n{self.definition.strip()}")


@dataclass
class Content:
    """A loaded content folder.

    `articles` holds the articles that loaded completely, the only ones a
    bundle or a translation export uses; `partial` those whose front matter
    has errors, loaded as far as it goes so that every check runs on them too.
    """

    root: Path
    # The articles' bodies, HTML and text (see Texts).
    texts: Texts = field(default_factory=Texts, repr=False, compare=False)
    languages: list[Language] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    partial: list[Article] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Slugs of articles and ids of glossary entries that exist but failed to
    # load: links to them are not reported again, so one mistake gives one message.
    unloaded: set[str] = field(default_factory=set)
    unloaded_terms: set[str] = field(default_factory=set)
    # Places with their emergency numbers and services (app/content/places.py).
    places: list[Place] = field(default_factory=list)
    # Remittance prices (app/content/remittances.py), None without a `remittances/` folder.
    remittances: Any = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def source_language(self) -> str:
        return self.languages[0].code

    def language(self, code: str) -> Language | None:
        """Return the language with this code, or None."""
        return next((x for x in self.languages if x.code == code), None)

    def topic(self, slug: str) -> Topic | None:
        """Return the topic with this slug, or None."""
        return next((t for t in self.topics if t.slug == slug), None)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Return (articles, glossary terms) per language code."""
        return {
            lang.code: (
                sum(a.lang == lang.code for a in self.articles),
                sum(t.lang == lang.code for t in self.terms),
            )
            for lang in self.languages
        }

    def add(self, path: Path, line: int, message: str, warning: bool = False) -> None:
        """Record a problem."""
        self.problems.append(Problem(path, line, message, warning))


def article_hash(title: str, summary: str, body: str) -> str:
    """Return the source hash of an article's text, as translations record it."""
    return short_hash(hashed_text(title, summary, body))


def hashed_text(title: str, summary: str, body: str) -> str:
    """Return an article's text as its source hash sees it: trimmed title, summary and body lines."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return "\n".join([title.strip(), summary.strip(), *lines])


def short_hash(text: str) -> str:
    """Return the first 16 hexadecimal characters of the SHA-256 of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
