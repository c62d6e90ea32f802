"""Every check of loaded content: topics, dates, translations, reviews, wording, sources, readability.

The checks run on every article that loaded at all, complete or not (see
`Content.partial`), skipping only what depends on a field that failed to load:
that failure was reported already, and one mistake gives one message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from app.content import plainlanguage, wording, yamlfile
from app.content.model import Article, Content

# Plain-language limits for source-language (English) articles. Breaking them
# is a warning: `waypost check` shows it, the guidance set's own test fails on it.
MAX_AVERAGE_SENTENCE_WORDS = 20
MIN_READING_EASE = 50
ARTICLE_WORDS = (250, 600)

Report = Callable[..., None]


def check_content(content: Content, today: date) -> None:
    """Run every check over a loaded and rendered content folder, recording each problem."""
    check_articles(content, today)
    check_sources(content, today)
    check_terms(content)


def check_articles(content: Content, today: date) -> None:
    """Check each article's slug, topic, dates, translation fields, review, wording and readability."""
    source = content.source_language
    topics = {t.slug for t in content.topics}
    originals = {a.slug: a for a in [*content.articles, *content.partial] if a.lang == source and a.valid("slug")}
    terms = {(t.lang, t.id): t.term for t in content.terms}
    seen: dict[tuple[str, str], str] = {}
    for a in [*content.articles, *content.partial]:

        def report(key: str, message: str, warning: bool = False, a: Article = a) -> None:
            content.add(a.path, yamlfile.line_of(a.lines, (key,), 1), message, warning)

        if a.valid("slug") and seen.setdefault((a.lang, a.slug), str(a.path)) != str(a.path):
            report("slug", f"duplicate slug '{a.slug}' (also in {seen[(a.lang, a.slug)]})")
        if a.valid("topic") and a.topic not in topics:
            report("topic", f"unknown topic '{a.topic}' (topics.yaml lists {', '.join(sorted(topics))})")
        if a.valid("updated") and a.valid("review_by"):
            _check_dates(a, today, report)
        if a.lang == source:
            for key in ("translation_of", "translation_status"):
                if getattr(a, key):
                    report(key, f"'{key}' belongs only in translations")
            _check_readability(content, a)
        elif a.valid("slug"):
            _check_translation(a, originals.get(a.slug), topics, report)
        if a.lang != source:
            _check_wording(content, a, {i: term for (lang, i), term in terms.items() if lang == a.lang})
        if a.review and a.valid("updated"):
            _check_review(a, today, report)


def _check_dates(a: Article, today: date, report: Report) -> None:
    if a.review_by <= a.updated:
        report("review_by", "review_by must be later than updated")
    elif a.review_by < today:
        report("review_by", f"past its review date ({a.review_by.isoformat()})", warning=True)


def _check_translation(a: Article, original: Article | None, topics: set[str], report: Report) -> None:
    for key in ("translation_of", "translation_status"):
        if not getattr(a, key) and a.valid(key):
            report("slug", f"missing required field '{key}' (every translation needs it)")
    if original is None:
        report("slug", f"translation of '{a.slug}', but there is no source article with that slug")
        return
    if a.valid("topic") and original.valid("topic") and a.topic != original.topic and original.topic in topics:
        report("topic", f"topic '{a.topic}' differs from the source article's '{original.topic}'")
    if a.translation_of and not original.invalid and a.translation_of != original.source_hash:
        report(
            "translation_of",
            f"out of date: {original.path} changed since this was translated",
            warning=True,
        )


def _check_review(a: Article, today: date, report: Report) -> None:
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
        content.add(a.path, line, message, warning=True)


def _url_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}?{parts.query}"


def _valid_sources(a: Article):
    """Yield (index, source) for each source of an article that loaded."""
    for i, s in enumerate(a.sources):
        if a.valid("sources", i) and "url" in s:
            yield i, s


def check_sources(content: Content, today: date) -> None:
    """Warn on sources that are home pages, shared across topics, or not yet confirmed."""
    articles = [*content.articles, *content.partial]
    topics_of: dict[str, set[str]] = {}
    for a in articles:
        for _i, s in _valid_sources(a):
            topics_of.setdefault(_url_key(s["url"]), set()).add(a.topic)
    for a in articles:
        for i, s in _valid_sources(a):
            line = yamlfile.line_of(a.lines, ("sources", i, "url"), 1)
            parts = urlsplit(s["url"])
            if parts.path in ("", "/") and not parts.query:
                content.add(a.path, line, f"source {s['url']} is a site's home page; "
                            "link the page that supports this article", True)  # fmt: skip
            others = sorted(topics_of[_url_key(s["url"])] - {a.topic})
            if others and a.valid("topic"):
                content.add(a.path, line, f"source {s['url']} is also used in other topics "
                            f"({', '.join(others)}); an unrelated topic needs its own source", True)  # fmt: skip
            checked = s.get("checked")
            if checked is None:
                content.add(a.path, yamlfile.line_of(a.lines, ("sources", i), 1),
                            "source has no 'checked:'; write 'checked: unverified' until a person "
                            "has opened the page, then the date they did", True)  # fmt: skip
            elif checked != "unverified" and date.fromisoformat(checked) > today:
                content.add(a.path, yamlfile.line_of(a.lines, ("sources", i, "checked"), 1),
                            f"source checked date {checked} is in the future", True)  # fmt: skip


def _check_readability(content: Content, a: Article) -> None:
    if content.source_language != "en":
        return  # the measures below are calibrated for English only
    measured = a.readability or plainlanguage.measure(a.text)  # measured already where it was rendered
    line = a.body_line
    low, high = ARTICLE_WORDS
    if not low <= measured.words <= high:
        content.add(a.path, line, f"{measured.words} words; aim for {low} to {high}", True)
    if measured.average_sentence > MAX_AVERAGE_SENTENCE_WORDS:
        content.add(a.path, line, f"sentences average {measured.average_sentence:.1f} words; "
                    f"keep it under {MAX_AVERAGE_SENTENCE_WORDS}", True)  # fmt: skip
    if measured.reading_ease < MIN_READING_EASE:
        content.add(a.path, line, f"reading ease {measured.reading_ease:.0f} is below "
                    f"{MIN_READING_EASE}; use shorter words and sentences", True)  # fmt: skip


def check_terms(content: Content) -> None:
    """Check glossary translations against the source entries they were made from."""
    source = content.source_language
    originals = {t.id: t for t in content.terms if t.lang == source}
    for t in content.terms:
        if t.lang == source:
            if t.translation_of or t.translation_status:
                content.add(t.path, t.line, "source glossary entries have no translation fields")
            continue
        original = originals.get(t.id)
        if original is None:
            if t.id not in content.unloaded_terms:
                content.add(t.path, t.line, f"translation of '{t.id}', but there is no source entry")
        elif not t.translation_of or not t.translation_status:
            content.add(t.path, t.line, "translated entries need translation_of and translation_status")
        elif t.translation_of != original.source_hash:
            content.add(t.path, t.line, f"out of date: the source entry '{t.id}' changed", True)
