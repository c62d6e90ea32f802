"""Load a content folder: read every file as far as it goes, render the articles, then run every check.

Loading, rendering and checking are three steps (this module, `render`,
`checks`), so a file with a bad date still has its links, topic and HTML
checked in the same run: one `waypost check` lists every problem there is.
Articles are read and rendered in worker processes where there are many
(app/parallel.py), and their bodies, HTML and text wait in a temporary file
(model.Texts), so memory holds only their metadata.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from app import parallel
from app.content import checks, remittances, schemas, yamlfile
from app.content.model import Article, Content, Language, Problem, Term, Topic, article_hash
from app.content.render import render_articles
from app.kiosk_state import kiosk_today

__all__ = ["Article", "Content", "Language", "Problem", "Term", "Topic", "article_hash", "load_content"]
from app.content.places import load_places


def load_content(root: Path, today: date | None = None) -> Content:
    """Load and check a content folder; every problem found is in `problems`."""
    root = Path(root)
    content = Content(root=root)
    if not root.is_dir():
        content.add(root, 0, "content folder not found")
        return content
    _load_languages(content)
    if not content.languages:
        return content
    _load_topics(content)
    _load_articles(content)
    _load_glossary(content)
    render_articles(content)
    checks.check_content(content, today or kiosk_today())
    _load_remittances(content, today or kiosk_today())
    _load_places(content, today or kiosk_today())
    content.problems.sort(key=lambda p: (str(p.path), p.line, p.message))
    return content


def _load_remittances(content: Content, today: date) -> None:
    content.remittances, issues = remittances.load_remittances(content.root, today)
    content.problems.extend(Problem(path, line, message, warning) for path, line, message, warning in issues)


def _load_places(content: Content, today: date) -> None:
    codes = [lang.code for lang in content.languages]
    content.places = load_places(content.root, codes, today, content.add)


def _read_yaml(content: Content, path: Path, first_line: int = 1, text: str | None = None):
    """Return (data, lines) or (None, {}) after reporting why the file is unusable."""
    try:
        if text is None:
            text = path.read_text(encoding="utf-8-sig")
        return yamlfile.load(text, first_line)
    except FileNotFoundError:
        content.add(path, 0, "file not found")
    except UnicodeDecodeError:
        content.add(path, 1, "not UTF-8 text; save the file as UTF-8")
    except yamlfile.YamlError as exc:
        content.add(path, exc.line, str(exc))
    return None, {}


def _validate(
    content: Content, schema: Schema, data: Any, path: Path, lines: yamlfile.Lines, at: tuple = ()
) -> tuple[dict, frozenset[tuple]]:
    """Load data through a schema, reporting each message on its own line.

    Returns what did validate and the key paths that did not (`()` when the
    data is not a mapping at all), so the caller can keep the valid part.
    """
    if not isinstance(data, dict):
        content.add(path, yamlfile.line_of(lines, at, 1), "expected `field: value` lines")
        return {}, frozenset({()})
    try:
        return schema.load(data), frozenset()
    except ValidationError as exc:
        invalid = set()
        for key_path, message in _flatten(exc.messages):
            line = yamlfile.line_of(lines, (*at, *key_path), yamlfile.line_of(lines, at, 1))
            content.add(path, line, _describe(key_path, message))
            invalid.add(key_path)
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, frozenset(invalid)


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


def _load_list(content: Content, name: str, schema: Schema, key: str):
    """Yield (index, loaded item, lines) for each item of a YAML list file with a valid `key`.

    An item with other mistakes is yielded too, as far as it loaded: its
    problems are reported, and what refers to it is not reported again.
    """
    path = content.root / f"{name}.yaml"
    data, lines = _read_yaml(content, path)
    if data is None:
        return
    if not isinstance(data, list) or not data:
        content.add(path, 1, f"expected a list of {name}")
        return
    for i, item in enumerate(data):
        loaded, _invalid = _validate(content, schema, item, path, lines, (i,))
        if key in loaded:
            yield i, loaded, lines


def _load_languages(content: Content) -> None:
    path = content.root / "languages.yaml"
    for i, loaded, lines in _load_list(content, "languages", schemas.LanguageSchema(), "code"):
        if content.language(loaded["code"]):
            content.add(path, lines[(i,)], f"language '{loaded['code']}' is listed twice")
            continue
        loaded.setdefault("name", loaded["code"])
        loaded.setdefault("dir", "ltr")
        for key in ("plural", "fallback"):
            if key in loaded and _in_cldr(loaded["code"]):
                content.add(path, lines[(i, key)], f"'{key}' is only for a language Babel's CLDR data lacks; "
                            f"CLDR has '{loaded['code']}', so remove it")  # fmt: skip
        content.languages.append(Language(**loaded))


def _in_cldr(code: str) -> bool:
    try:
        schemas.cldr_locale(code)
    except ValidationError:
        return False
    return True


def _load_topics(content: Content) -> None:
    path = content.root / "topics.yaml"
    codes = {lang.code for lang in content.languages}
    for i, loaded, lines in _load_list(content, "topics", schemas.TopicSchema(), "slug"):
        if content.topic(loaded["slug"]):
            content.add(path, lines[(i,)], f"topic '{loaded['slug']}' is listed twice")
            continue
        names, descriptions = loaded.get("name"), loaded.get("description", {})
        if names is not None and content.source_language not in names:
            content.add(
                path, lines[(i, "name")], f"topic '{loaded['slug']}' needs a name in '{content.source_language}'"
            )
        for key, given in (("name", names or {}), ("description", descriptions)):
            for code in sorted(set(given) - codes):
                content.add(path, lines[(i, key, code)], f"unknown language '{code}'")
        content.topics.append(Topic(loaded["slug"], names or {}, descriptions, loaded.get("sensitive", False)))


def _language_files(content: Content, folder: Path, pattern: str):
    """Yield (language code, path) for each file, reporting unknown languages."""
    codes = {lang.code for lang in content.languages}
    for path in sorted(folder.glob(pattern)):
        code = path.parent.name if path.parent != folder else path.stem
        if code not in codes:
            listed = ", ".join(sorted(codes))
            content.add(path, 1, f"unknown language '{code}' (languages.yaml lists {listed})")
            continue
        yield code, path


def _load_articles(content: Content) -> None:
    files = list(_language_files(content, content.root / "articles", "*/*.md"))
    read = parallel.ordered_map(_read_file, parallel.no_state, (), files, least=READ_PARALLEL_LEAST)
    for fields, body, problems in read:
        content.problems.extend(problems)
        if fields is None:
            continue
        article = Article(**fields, texts=content.texts)
        article.body = body
        if article.invalid:
            content.partial.append(article)
            content.unloaded.add(article.slug)
        else:
            content.articles.append(article)


# Fewer articles than this are read here: starting worker processes would cost more than they save.
READ_PARALLEL_LEAST = 200

# What an article's front matter holds where a field is missing or invalid;
# such an article is never built, only checked.
_UNLOADED = {"topic": "", "title": "", "summary": "", "updated": date.min, "review_by": date.max, "sources": []}


def _read_file(_state: None, file: tuple[str, Path]) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    """Return an article file's fields, its body and its problems (the fields are None if it has none)."""
    lang, path = file
    found = Content(root=path.parent)  # collects this file's problems, in whichever process reads it
    read = _read_article(found, lang, path)
    return (read[0], read[1], found.problems) if read else (None, "", found.problems)


def _read_article(content: Content, lang: str, path: Path) -> tuple[dict[str, Any], str] | None:
    try:
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        content.add(path, 1, "not UTF-8 text; save the file as UTF-8")
        return None
    if not text.startswith("---\n"):
        content.add(path, 1, "the file must start with a line '---' and the front matter")
        return None
    end = text.find("\n---\n", 3)
    if end == -1:
        content.add(path, 1, "the front matter has no closing '---' line")
        return None
    data, lines = _read_yaml(content, path, first_line=2, text=text[4 : end + 1])
    loaded: dict[str, Any] = {}
    invalid: frozenset[tuple] = frozenset({()})
    if data is not None:
        loaded, invalid = _validate(content, _ARTICLE_SCHEMA, data, path, lines)
    if any(p[:1] == ("review",) for p in invalid) or () in invalid:
        loaded.pop("review", None)
    fields = {**_UNLOADED, "slug": path.stem, **{k: v for k, v in loaded.items() if k in _ARTICLE_FIELDS}}
    body_line = text[: end + 5].count("\n") + 1
    fields.update(path=path, lang=lang, body_line=body_line, lines=lines, invalid=invalid)
    return fields, text[end + 5 :]


# One instance for every article: making a schema copies its fields, a tenth of reading an article.
_ARTICLE_SCHEMA = schemas.ArticleSchema()
_ARTICLE_FIELDS = set(_ARTICLE_SCHEMA.fields)


def _load_glossary(content: Content) -> None:
    for lang, path in _language_files(content, content.root / "glossary", "*.yaml"):
        data, lines = _read_yaml(content, path)
        if not data:
            continue
        loaded, invalid = _validate(content, schemas.GlossarySchema(), data, path, lines)
        seen = set()
        for i, item in enumerate(loaded.get("terms", [])):
            line = lines[("terms", i)]
            if any(p[:2] == ("terms", i) for p in invalid):
                if isinstance(item, dict) and "id" in item:
                    content.unloaded_terms.add(item["id"])
                continue
            if item["id"] in seen:
                content.add(path, line, f"glossary entry '{item['id']}' is listed twice")
                continue
            seen.add(item["id"])
            status = item.pop("translation_status", loaded.get("translation_status"))
            content.terms.append(Term(path, line, lang, translation_status=status, **item))
