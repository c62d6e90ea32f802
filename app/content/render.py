"""Turn an article's Markdown into safe HTML and plain text, checking its links."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from app import parallel
from app.content import plainlanguage
from app.content.model import Article, Content
from app.content.plainlanguage import Readability

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote",
    "code", "pre", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}

# A link target resolves to a URL, or to None when it points nowhere.
Resolver = Callable[[str], "str | None"]

_md = MarkdownIt("commonmark").enable("table")
# Links repeat (article:, glossary:, the same sources): each is normalised once, not at every use.
_md.normalizeLink = functools.lru_cache(maxsize=4096)(_md.normalizeLink)  # type: ignore[method-assign]


@dataclass
class Rendered:
    html: str
    text: str
    # (line within the body, 1-based; message) for every problem found.
    problems: list[tuple[int, str]] = field(default_factory=list)


def render(body: str, article_url: Resolver, glossary_url: Resolver) -> Rendered:
    """Render Markdown to sanitised HTML and plain text; report bad links and raw HTML.

    `article:SLUG` and `glossary:ID` links are rewritten through the resolvers;
    outside links must be https.
    """
    tokens = _md.parse(body)
    problems: list[tuple[int, str]] = []
    line = 1
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        if token.type == "html_block":
            problems.append((line, "raw HTML is not allowed; write Markdown instead"))
            token.content = ""
        for child in token.children or ():
            if child.type == "html_inline":
                problems.append((line, "raw HTML is not allowed; write Markdown instead"))
                child.content = ""
            elif child.type == "link_open":
                _rewrite_link(child, line, problems, article_url, glossary_url)
    html = nh3.clean(
        _md.renderer.render(tokens, _md.options, {}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https"},
        link_rel=None,
    )
    # `<b>x</b>` is one mistake, not two: one message per line and kind.
    return Rendered(html=html, text=plain_text(tokens), problems=list(dict.fromkeys(problems)))


def _rewrite_link(
    token: Token,
    line: int,
    problems: list[tuple[int, str]],
    article_url: Resolver,
    glossary_url: Resolver,
) -> None:
    href = str(token.attrGet("href") or "")
    scheme, _, target = href.partition(":")
    if scheme == "article" or scheme == "glossary":
        resolve = article_url if scheme == "article" else glossary_url
        url = resolve(target)
        if url is None:
            kind = "an article" if scheme == "article" else "a glossary entry"
            problems.append((line, f"link to {kind} that does not exist: {href}"))
            url = "#"
        token.attrSet("href", url)
    elif href.startswith("https://") or href.startswith("#"):
        pass
    elif href.startswith("http://"):
        problems.append((line, f"link must use https://: {href}"))
    else:
        problems.append((line, f"unknown link '{href}': use article:SLUG, glossary:ID or an https:// address"))


def render_articles(content: Content) -> None:
    """Render every article's body into its html and text, reporting bad links and raw HTML at their lines.

    Links resolve against the source language's articles and glossary; a link
    to one that exists but failed to load is not reported a second time.
    Articles render in worker processes where there are many (app/parallel.py).
    """
    source = content.source_language
    originals = {a.slug: a.topic for a in content.articles if a.lang == source}
    term_ids = {t.id for t in content.terms if t.lang == source}
    articles: list[Article] = [*content.articles, *content.partial]
    links = (originals, content.unloaded, term_ids, content.unloaded_terms)
    # Source articles in English are measured for readability where their text is at hand (checks.py).
    bodies = ((a.body, a.lang == source == "en") for a in articles)
    rendered = parallel.ordered_map(_render_body, _resolvers, links, bodies, least=PARALLEL_LEAST)
    for a, (html, text, problems, readability) in zip(articles, rendered, strict=True):
        a.html, a.text, a.readability = html, text, readability
        for line, message in problems:
            content.add(a.path, a.body_line + line - 1, message)


# Fewer articles than this render here: starting worker processes would cost more than they save.
PARALLEL_LEAST = 200


def _resolvers(
    originals: dict[str, str], unloaded: set[str], term_ids: set[str], unloaded_terms: set[str]
) -> tuple[Resolver, Resolver]:
    """Return the link resolvers of a content set, from its source articles' topics and glossary ids."""

    def article_url(slug: str) -> str | None:
        if slug in originals:
            return f"../{originals[slug]}/{slug}"
        return "#" if slug in unloaded else None

    def glossary_url(term: str) -> str | None:
        if term in term_ids:
            return f"../glossary#{term}"
        return "#" if term in unloaded_terms else None

    return article_url, glossary_url


def _render_body(
    resolvers: tuple[Resolver, Resolver], article: tuple[str, bool]
) -> tuple[str, str, list[tuple[int, str]], Readability | None]:
    body, measured = article
    rendered = render(body, *resolvers)
    return rendered.html, rendered.text, rendered.problems, plainlanguage.measure(rendered.text) if measured else None


_SENTENCE_END = ".!?:;…؟۔。"


def plain_text(tokens: list[Token]) -> str:
    """Return the text of the rendered blocks, one block a paragraph.

    A heading or list item without closing punctuation gets a full stop, so
    that readability measures and snippets see it as a sentence of its own.
    """
    blocks = []
    for token in tokens:
        if token.type != "inline":
            continue
        words = []
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        block = re.sub(r"\s+", " ", "".join(words)).strip()
        if block:
            if block[-1] not in _SENTENCE_END:
                block += "."
            blocks.append(block)
    return "\n\n".join(blocks)
