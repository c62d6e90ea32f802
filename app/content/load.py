"""Load a content folder and report every problem in it, each with file and line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError

from app.content import plainlanguage, schemas, wording, yamlfile
from app.content.places import Place, load_places
from app.content.render import render

# Plain-language limits for source-language (English) articles. Breaking them
# is a warning: `waypost check` shows it, the guidance set's own test fails on it.
MAX_AVERAGE_SENTENCE_WORDS = 20
MIN_READING_EASE = 50
ARTICLE_WORDS = (250, 600)


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


@dataclass
class Topic:
    slug: str
    names: dict[str, str]
    descriptions: dict[str, str]
    sensitive: bool = False


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
    body: str
    body_line: int
    lines: yamlfile.Lines
    translation_of: str | None = None
    translation_status: str | None = None
    # {status, by (a role), date}: written only by the person who reviewed it.
    review: dict[str, Any] | None = None
    sensitive: bool = False
    html: str = ""
    text: str = ""

    @property
    def source_hash(self) -> str:
        return article_hash(self.title, self.summary, self.body)


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
        return _short_hash(f"{self.term.strip()}\n{self.definition.strip()}")


@dataclass
class Content:
    root: Path
    languages: list[Language] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    # Slugs of articles that exist but failed to load: links to them are not
    # reported again, so one mistake gives one message.
    unloaded: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def source_language(self) -> str:
        return self.languages[0].code

    def counts(self) -> dict[str, tuple[int, int]]:
        """Return (articles, glossary terms) per language code."""
        return {
            lang.code: (
                sum(a.lang == lang.code for a in self.articles),
                sum(t.lang == lang.code for t in self.terms),
            )
            for lang in self.languages
        }


def article_hash(title: str, summary: str, body: str) -> str:
    """Return the source hash of an article's text, as translations record it."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return _short_hash("\n".join([title.strip(), summary.strip(), *lines]))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_content(root: Path, today: date | None = None) -> Content:
    """Load and check a content folder; every problem found is in `problems`."""
    root = Path(root)
    content = Content(root=root)
    if not root.is_dir():
        content.problems.append(Problem(root, 0, "content folder not found"))
        return content
    _load_languages(content)
    if not content.languages:
        return content
    _load_topics(content)
    _load_articles(content)
    _load_glossary(content)
    _check_articles(content, today or date.today())
    _check_sources(content, today or date.today())
    _check_terms(content)
    _load_places(content, today or date.today())
    content.problems.sort(key=lambda p: (str(p.path), p.line, p.message))
    return content


def _load_places(content: Content, today: date) -> None:
    codes = [lang.code for lang in content.languages]
    content.places = load_places(content.root, codes, today, lambda *p: _problem(content, *p))


def _problem(content: Content, path: Path, line: int, message: str, warning: bool = False):
    content.problems.append(Problem(path, line, message, warning))


def _read_yaml(content: Content, path: Path, first_line: int = 1, text: str | None = None):
    """Return (data, lines) or (None, {}) after reporting why the file is unusable."""
    try:
        if text is None:
            text = path.read_text(encoding="utf-8-sig")
        return yamlfile.load(text, first_line)
    except FileNotFoundError:
        _problem(content, path, 0, "file not found")
    except UnicodeDecodeError:
        _problem(content, path, 1, "not UTF-8 text; save the file as UTF-8")
    except yamlfile.YamlError as exc:
        _problem(content, path, exc.line, str(exc))
    return None, {}


def _validate(
    content: Content, schema: Schema, data: Any, path: Path, lines: yamlfile.Lines, at: tuple = ()
) -> dict | None:
    """Load data through a schema, reporting each message on its own line."""
    if not isinstance(data, dict):
        _problem(content, path, yamlfile.line_of(lines, at, 1), "expected `field: value` lines")
        return None
    try:
        return schema.load(data)
    except ValidationError as exc:
        for key_path, message in _flatten(exc.messages):
            line = yamlfile.line_of(lines, (*at, *key_path), yamlfile.line_of(lines, at, 1))
            _problem(content, path, line, _describe(key_path, message))
        return None


def _flatten(messages: Any, path: tuple = ()):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" else (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield path, str(messages)


def _describe(key_path: tuple, message: str) -> str:
    name = ".".join(str(k) for k in key_path) or "file"
    if message == "Missing data for required field.":
        return f"missing required field '{name}'"
    if message == "Unknown field.":
        return f"unknown field '{name}'"
    return f"{name}: {message[0].lower()}{message[1:]}" if message else name


def _load_list(content: Content, name: str, schema: Schema):
    """Yield (index, loaded item, lines) for each valid item of a YAML list file."""
    path = content.root / f"{name}.yaml"
    data, lines = _read_yaml(content, path)
    if data is None:
        return
    if not isinstance(data, list) or not data:
        _problem(content, path, 1, f"expected a list of {name}")
        return
    for i, item in enumerate(data):
        loaded = _validate(content, schema, item, path, lines, (i,))
        if loaded is not None:
            yield i, loaded, lines


def _load_languages(content: Content) -> None:
    path = content.root / "languages.yaml"
    seen = set()
    for i, loaded, lines in _load_list(content, "languages", schemas.LanguageSchema()):
        if loaded["code"] in seen:
            _problem(content, path, lines[(i,)], f"language '{loaded['code']}' is listed twice")
            continue
        seen.add(loaded["code"])
        content.languages.append(Language(**loaded))


def _load_topics(content: Content) -> None:
    path = content.root / "topics.yaml"
    codes = {lang.code for lang in content.languages}
    for i, loaded, lines in _load_list(content, "topics", schemas.TopicSchema()):
        if any(t.slug == loaded["slug"] for t in content.topics):
            _problem(content, path, lines[(i,)], f"topic '{loaded['slug']}' is listed twice")
            continue
        if content.source_language not in loaded["name"]:
            _problem(
                content, path, lines[(i, "name")],
                f"topic '{loaded['slug']}' needs a name in '{content.source_language}'",
            )  # fmt: skip
        for key in ("name", "description"):
            for code in sorted(set(loaded[key]) - codes):
                _problem(content, path, lines[(i, key, code)], f"unknown language '{code}'")
        content.topics.append(Topic(loaded["slug"], loaded["name"], loaded["description"], loaded["sensitive"]))


def _language_files(content: Content, folder: Path, pattern: str):
    """Yield (language code, path) for each file, reporting unknown languages."""
    codes = {lang.code for lang in content.languages}
    for path in sorted(folder.glob(pattern)):
        code = path.parent.name if path.parent != folder else path.stem
        if code not in codes:
            listed = ", ".join(sorted(codes))
            _problem(content, path, 1, f"unknown language '{code}' (languages.yaml lists {listed})")
            continue
        yield code, path


def _load_articles(content: Content) -> None:
    for lang, path in _language_files(content, content.root / "articles", "*/*.md"):
        article = _read_article(content, lang, path)
        if article is not None:
            content.articles.append(article)


def _read_article(content: Content, lang: str, path: Path) -> Article | None:
    try:
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        _problem(content, path, 1, "not UTF-8 text; save the file as UTF-8")
        return None
    if not text.startswith("---\n"):
        _problem(content, path, 1, "the file must start with a line '---' and the front matter")
        return None
    end = text.find("\n---\n", 3)
    if end == -1:
        _problem(content, path, 1, "the front matter has no closing '---' line")
        return None
    data, lines = _read_yaml(content, path, first_line=2, text=text[4 : end + 1])
    if data is None:
        content.unloaded.add(path.stem)
        return None
    loaded = _validate(content, schemas.ArticleSchema(), data, path, lines)
    if loaded is None:
        if isinstance(data, dict) and isinstance(data.get("slug"), str):
            content.unloaded.add(data["slug"])
        return None
    body_line = text[: end + 5].count("\n") + 1
    return Article(path=path, lang=lang, body=text[end + 5 :], body_line=body_line, lines=lines, **loaded)


def _load_glossary(content: Content) -> None:
    for lang, path in _language_files(content, content.root / "glossary", "*.yaml"):
        data, lines = _read_yaml(content, path)
        loaded = _validate(content, schemas.GlossarySchema(), data, path, lines) if data else None
        if loaded is None:
            continue
        seen = set()
        for i, item in enumerate(loaded["terms"]):
            line = lines[("terms", i)]
            if item["id"] in seen:
                _problem(content, path, line, f"glossary entry '{item['id']}' is listed twice")
                continue
            seen.add(item["id"])
            status = item.pop("translation_status", loaded.get("translation_status"))
            content.terms.append(Term(path, line, lang, translation_status=status, **item))


def _check_articles(content: Content, today: date) -> None:
    source = content.source_language
    topics = {t.slug for t in content.topics}
    originals = {a.slug: a for a in content.articles if a.lang == source}
    term_ids = {t.id for t in content.terms if t.lang == source}
    terms = {(t.lang, t.id): t.term for t in content.terms}
    seen: dict[tuple[str, str], Path] = {}
    for a in content.articles:

        def report(key: str, message: str, warning: bool = False, a: Article = a) -> None:
            _problem(content, a.path, yamlfile.line_of(a.lines, (key,), 1), message, warning)

        if (a.lang, a.slug) in seen:
            report("slug", f"duplicate slug '{a.slug}' (also in {seen[(a.lang, a.slug)]})")
        seen.setdefault((a.lang, a.slug), a.path)
        if a.topic not in topics:
            report("topic", f"unknown topic '{a.topic}' (topics.yaml lists {', '.join(sorted(topics))})")
        _check_dates(a, today, report)
        if a.lang == source:
            for key in ("translation_of", "translation_status"):
                if getattr(a, key):
                    report(key, f"'{key}' belongs only in translations")
        else:
            _check_translation(a, originals.get(a.slug), topics, report)
            _check_wording(content, a, {i: term for (lang, i), term in terms.items() if lang == a.lang})
        if a.review:
            _check_review(a, today, report)
        rendered = render(
            a.body,
            lambda slug: _article_url(originals, content.unloaded, slug),
            lambda term: f"../glossary#{term}" if term in term_ids else None,
        )
        a.html, a.text = rendered.html, rendered.text
        if a.lang == source:
            _check_readability(content, a)
        for line, message in rendered.problems:
            _problem(content, a.path, a.body_line + line - 1, message)


def _check_dates(a: Article, today: date, report) -> None:
    if a.review_by <= a.updated:
        report("review_by", "review_by must be later than updated")
    elif a.review_by < today:
        report("review_by", f"past its review date ({a.review_by.isoformat()})", warning=True)


def _article_url(originals: dict[str, Article], unloaded: set[str], slug: str) -> str | None:
    if slug in originals:
        return f"../{originals[slug].topic}/{slug}"
    return "#" if slug in unloaded else None


def _check_translation(a: Article, original: Article | None, topics: set[str], report) -> None:
    for key in ("translation_of", "translation_status"):
        if not getattr(a, key):
            report("slug", f"missing required field '{key}' (every translation needs it)")
    if original is None:
        report("slug", f"translation of '{a.slug}', but there is no source article with that slug")
        return
    if a.topic != original.topic and original.topic in topics:
        report("topic", f"topic '{a.topic}' differs from the source article's '{original.topic}'")
    if a.translation_of and a.translation_of != original.source_hash:
        report(
            "translation_of",
            f"out of date: {original.path} changed since this was translated",
            warning=True,
        )


def _check_review(a: Article, today: date, report) -> None:
    reviewed = a.review["date"] if a.review else today
    if reviewed > today:
        report("review", f"review date {reviewed.isoformat()} is in the future", warning=True)
    elif reviewed < a.updated:
        report("review", "the text was updated after its review; ask for a new review", warning=True)


def _check_wording(content: Content, a: Article, terms: dict[str, str]) -> None:
    """Warn where a translation strays from its glossary's terms or French spacing."""
    found = [(a.body_line + n - 1, m) for n, m in wording.glossary_mismatches(a.body, terms)]
    if a.lang == "fr":
        for key in ("title", "summary"):
            line = yamlfile.line_of(a.lines, (key,), 1)
            found += [(line, m) for _, m in wording.french_spacing(getattr(a, key))]
        found += [(a.body_line + n - 1, m) for n, m in wording.french_spacing(a.body)]
    for line, message in found:
        _problem(content, a.path, line, message, warning=True)


def _url_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}?{parts.query}"


def _check_sources(content: Content, today: date) -> None:
    """Warn on sources that are home pages, shared across topics, or not yet confirmed."""
    topics_of: dict[str, set[str]] = {}
    for a in content.articles:
        for s in a.sources:
            topics_of.setdefault(_url_key(s["url"]), set()).add(a.topic)
    for a in content.articles:
        for i, s in enumerate(a.sources):
            line = yamlfile.line_of(a.lines, ("sources", i, "url"), 1)
            parts = urlsplit(s["url"])
            if parts.path in ("", "/") and not parts.query:
                _problem(content, a.path, line, f"source {s['url']} is a site's home page; "
                         "link the page that supports this article", True)  # fmt: skip
            others = sorted(topics_of[_url_key(s["url"])] - {a.topic})
            if others:
                _problem(content, a.path, line, f"source {s['url']} is also used in other topics "
                         f"({', '.join(others)}); an unrelated topic needs its own source", True)  # fmt: skip
            checked = s.get("checked")
            if checked is None:
                _problem(content, a.path, yamlfile.line_of(a.lines, ("sources", i), 1),
                         "source has no 'checked:'; write 'checked: unverified' until a person "
                         "has opened the page, then the date they did", True)  # fmt: skip
            elif checked != "unverified" and date.fromisoformat(checked) > today:
                _problem(content, a.path, yamlfile.line_of(a.lines, ("sources", i, "checked"), 1),
                         f"source checked date {checked} is in the future", True)  # fmt: skip


def _check_readability(content: Content, a: Article) -> None:
    if content.source_language != "en":
        return  # the measures below are calibrated for English only
    measured = plainlanguage.measure(a.text)
    line = a.body_line
    low, high = ARTICLE_WORDS
    if not low <= measured.words <= high:
        _problem(content, a.path, line, f"{measured.words} words; aim for {low} to {high}", True)
    if measured.average_sentence > MAX_AVERAGE_SENTENCE_WORDS:
        _problem(content, a.path, line, f"sentences average {measured.average_sentence:.1f} words; "
                 f"keep it under {MAX_AVERAGE_SENTENCE_WORDS}", True)  # fmt: skip
    if measured.reading_ease < MIN_READING_EASE:
        _problem(content, a.path, line, f"reading ease {measured.reading_ease:.0f} is below "
                 f"{MIN_READING_EASE}; use shorter words and sentences", True)  # fmt: skip


def _check_terms(content: Content) -> None:
    source = content.source_language
    originals = {t.id: t for t in content.terms if t.lang == source}
    for t in content.terms:
        if t.lang == source:
            if t.translation_of or t.translation_status:
                _problem(content, t.path, t.line, "source glossary entries have no translation fields")
            continue
        original = originals.get(t.id)
        if original is None:
            _problem(content, t.path, t.line, f"translation of '{t.id}', but there is no source entry")
        elif not t.translation_of or not t.translation_status:
            _problem(content, t.path, t.line, "translated entries need translation_of and translation_status")
        elif t.translation_of != original.source_hash:
            _problem(content, t.path, t.line, f"out of date: the source entry '{t.id}' changed", True)
