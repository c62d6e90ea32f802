"""Content validation: every kind of mistake is reported with file and line."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.content import article_hash, load_content
from app.translations import stamp

from .helpers import edit_article, write_translation


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_fixture_content_is_valid(content_dir):
    content = load_content(content_dir)
    assert content.errors == []
    assert content.counts()["en"] == (10, 1)
    assert content.counts()["ar"] == (1, 0)


# (file under content/, text to replace, replacement, line, message fragment)
MISTAKES = [
    ("articles/en/money-1.md", "title: Guide money 1\n", "", 1, "missing required field 'title'"),
    (
        "articles/en/money-1.md",
        "summary: What to know about guide money 1.\n",
        "",
        1,
        "missing required field 'summary'",
    ),
    ("articles/en/money-1.md", "review_by: 2099-11-01\n", "", 1, "missing required field 'review_by'"),
    (
        "articles/en/money-1.md",
        "sources:\n  - title: UNHCR Help\n    url: https://help.unhcr.org/\n",
        "sources: []\n",
        8,
        "sources: needs at least one source",
    ),
    ("articles/en/money-1.md", "topic: money\n", "topic: money\ncolour: red\n", 4, "unknown field 'colour'"),
    ("articles/en/money-1.md", "updated: 2026-11-01", "updated: 2026-13-01", 6, "updated: not a valid date"),
    ("articles/en/money-1.md", "topic: money", "topic: cooking", 3, "unknown topic 'cooking'"),
    ("articles/en/money-2.md", "slug: money-2", "slug: money-1", 2, "duplicate slug 'money-1'"),
    (
        "articles/en/money-1.md",
        "(article:money-2)",
        "(article:no-such)",
        21,
        "link to an article that does not exist: article:no-such",
    ),
    (
        "articles/en/money-1.md",
        "(glossary:passport)",
        "(glossary:visa)",
        21,
        "link to a glossary entry that does not exist: glossary:visa",
    ),
    ("articles/en/money-1.md", "Keep a copy", "<script>x</script> Keep a copy", 13, "raw HTML is not allowed"),
    ("articles/en/money-1.md", "(article:money-2)", "(http://example.org)", 21, "link must use https://"),
    (
        "articles/en/money-1.md",
        "url: https://help.unhcr.org/",
        "url: ftp://x",
        10,
        "sources.0.url: must be an https:// address",
    ),
    (
        "articles/en/money-1.md",
        "review_by: 2099-11-01",
        "review_by: 2026-10-01",
        7,
        "review_by must be later than updated",
    ),
    ("articles/en/money-1.md", "title: Guide", "title: [unclosed", 5, "not valid YAML"),
    ("articles/en/money-1.md", "topic: money\n", "topic: money\n[x]: 1\n", 4, "a key must be plain text"),
    ("articles/ar/rights-1.md", "slug: rights-1", "slug: rights-9", 2, "no source article with that slug"),
    ("articles/ar/rights-1.md", "translation_status: machine\n", "", 2, "missing required field 'translation_status'"),
    ("articles/ar/rights-1.md", "topic: rights", "topic: money", 3, "differs from the source article's 'rights'"),
    ("topics.yaml", "    en: Money (en)\n", "", 18, "needs a name in 'en'"),
    ("glossary/en.yaml", "term: Passport", "term: ''", 3, "terms.0.term: must not be empty"),
]


@pytest.mark.parametrize(("name", "old", "new", "line", "message"), MISTAKES, ids=[m[4][:40] for m in MISTAKES])
def test_each_kind_of_mistake_is_reported_with_file_and_line(content_dir, name, old, new, line, message):
    replace_in(content_dir / name, old, new)
    errors = [str(p) for p in load_content(content_dir).errors]
    expected = f"{content_dir / name}:{line}: "
    assert any(e.startswith(expected) and message in e for e in errors), errors


def test_a_mistake_in_a_source_article_is_not_repeated_for_its_translations(content_dir):
    replace_in(content_dir / "articles/en/rights-1.md", "topic: rights", "topic: cooking")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert len(errors) == 1 and "unknown topic 'cooking'" in errors[0], errors


def test_an_article_in_an_unknown_language_folder_is_reported(content_dir):
    stray = content_dir / "articles" / "xx" / "money-1.md"
    stray.parent.mkdir()
    stray.write_text((content_dir / "articles/en/money-1.md").read_text())
    errors = [str(p) for p in load_content(content_dir).errors]
    assert f"{stray}:1: unknown language 'xx' (languages.yaml lists ar, en, es, fa, fr, uk)" in errors


def test_a_file_without_front_matter_is_reported(content_dir):
    (content_dir / "articles/en/money-1.md").write_text("Just text\n")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert any("money-1.md:1: the file must start with a line '---'" in e for e in errors)


def test_three_mistakes_in_three_files_are_all_reported_and_nothing_is_built(content_dir, tmp_path):
    replace_in(content_dir / "articles/en/money-1.md", "topic: money", "topic: cooking")
    replace_in(content_dir / "articles/en/rights-2.md", "updated: 2026-11-01", "updated: yesterday")
    replace_in(content_dir / "articles/en/emergencies-1.md", "(glossary:passport)", "(glossary:nope)")
    out = tmp_path / "out.bundle"
    result = CliRunner().invoke(main, ["build", str(content_dir), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{content_dir}/articles/en/money-1.md:3: unknown topic 'cooking'" in result.output
    assert f"{content_dir}/articles/en/rights-2.md:6: updated: not a valid date" in result.output
    assert f"{content_dir}/articles/en/emergencies-1.md:21: link to a glossary entry" in result.output
    assert "3 errors" in result.output
    assert not out.exists()
    assert list(tmp_path.glob(".out.bundle*")) == []


def test_check_exits_zero_on_valid_content_and_prints_counts(content_dir):
    result = CliRunner().invoke(main, ["check", str(content_dir)])
    assert result.exit_code == 0, result.output
    assert "en              10         1" in result.output
    assert "0 errors" in result.output


def test_a_translation_becomes_outdated_when_its_source_changes(content_dir):
    def outdated():
        return [str(p) for p in load_content(content_dir).warnings if "out of date" in p.message]

    assert outdated() == []
    replace_in(content_dir / "articles/en/rights-1.md", "Keep a copy", "Always keep a copy")
    assert sorted(w.split("/articles/")[1][:2] for w in outdated()) == ["ar", "fa", "fr"]


def test_stamp_records_the_current_source_hash(content_dir):
    source = content_dir / "articles/en/rights-1.md"
    replace_in(source, "Keep a copy", "Always keep a copy")
    translation = content_dir / "articles/fr/rights-1.md"
    written = stamp(load_content(content_dir), translation)
    original = next(a for a in load_content(content_dir).articles if a.path == source)
    assert written == article_hash(original.title, original.summary, original.body)
    assert f"translation_of: {written}" in translation.read_text()
    assert not any("fr/" in str(p.path) for p in load_content(content_dir).warnings)


def test_articles_past_their_review_date_are_a_warning_not_an_error(content_dir):
    content = load_content(content_dir, today=date(2100, 1, 1))
    assert content.errors == []
    assert any("past its review date" in p.message for p in content.warnings)


def test_plain_language_limits_warn_on_long_sentences(content_dir):
    path = content_dir / "articles/en/money-1.md"
    text = path.read_text()
    path.write_text(text[: text.index("Keep a copy")] + " ".join(["word"] * 300) + ".\n")
    warnings = [p.message for p in load_content(content_dir).warnings]
    assert any("sentences average" in w for w in warnings), warnings


def test_the_source_hash_is_the_documented_sha256_and_outdated_translations_warn(content_dir):
    # content/README.md: the first 16 hex digits of SHA-256 over the title, the
    # summary and the body's lines, trailing spaces and outer blank lines removed.
    assert (
        article_hash(" Title ", "Summary.", "\n\nLine one.  \nLine two.\n\n")
        == (hashlib.sha256(b"Title\nSummary.\nLine one.\nLine two.").hexdigest()[:16])
    )
    path = write_translation(content_dir, "es", "money-1", title="Dinero", body="Texto.")
    assert not [p for p in load_content(content_dir).problems if p.path == path]
    edit_article(content_dir, "money-1", "Keep a copy of every paper", "Keep a copy of each paper")
    outdated = [p for p in load_content(content_dir).problems if p.path == path]
    assert [(p.warning, p.line) for p in outdated] == [(True, _line_of(path, "translation_of:"))], outdated


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(text))
