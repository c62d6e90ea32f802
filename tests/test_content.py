"""Content validation: every kind of mistake is reported with file and line."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.content.load import article_hash, load_content
from app.i18n.translations import stamp

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
        "sources:\n  - title: UNHCR Help\n    url: https://help.unhcr.org/money/\n    checked: unverified\n",
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
        22,
        "link to an article that does not exist: article:no-such",
    ),
    (
        "articles/en/money-1.md",
        "(glossary:passport)",
        "(glossary:visa)",
        22,
        "link to a glossary entry that does not exist: glossary:visa",
    ),
    ("articles/en/money-1.md", "Keep a copy", "<script>x</script> Keep a copy", 14, "raw HTML is not allowed"),
    ("articles/en/money-1.md", "(article:money-2)", "(http://example.org)", 22, "link must use https://"),
    (
        "articles/en/money-1.md",
        "url: https://help.unhcr.org/money/",
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
    assert f"{content_dir}/articles/en/emergencies-1.md:22: link to a glossary entry" in result.output
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


def warnings_of(content_dir: Path, today: date | None = None) -> list[str]:
    return [str(p) for p in load_content(content_dir, today=today).warnings]


def test_a_source_that_is_a_home_page_is_a_warning_on_its_line(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "url: https://help.unhcr.org/money/", "url: https://www.unhcr.org")
    assert f"{path}:10: warning: source https://www.unhcr.org is a site's home page; " \
        "link the page that supports this article" in warnings_of(content_dir)  # fmt: skip


def test_a_source_used_in_an_unrelated_topic_is_a_warning_on_its_line(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "url: https://help.unhcr.org/money/", "url: https://help.unhcr.org/rights")
    found = warnings_of(content_dir)
    assert f"{path}:10: warning: source https://help.unhcr.org/rights is also used in other topics " \
        "(rights); an unrelated topic needs its own source" in found  # fmt: skip
    # The same page cited twice within one topic is fine.
    assert not any("money-2.md" in w and "warning: source" in w for w in found), found


def test_a_source_without_checked_is_a_warning_on_its_line(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "    checked: unverified\n", "")
    assert f"{path}:9: warning: source has no 'checked:'; write 'checked: unverified' until a person " \
        "has opened the page, then the date they did" in warnings_of(content_dir)  # fmt: skip


def test_a_checked_date_in_the_future_is_a_warning_and_a_bad_one_an_error(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "checked: unverified", "checked: 2026-11-20")
    assert warnings_of(content_dir, today=date(2026, 11, 20)) == warnings_of(content_dir, today=date(2026, 11, 21))
    assert f"{path}:11: warning: source checked date 2026-11-20 is in the future" in warnings_of(
        content_dir, today=date(2026, 11, 19)
    )
    replace_in(path, "checked: 2026-11-20", "checked: soon")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert f"{path}:11: sources.0.checked: must be 'unverified' or a date YYYY-MM-DD" in errors


REVIEW = "review:\n  status: reviewed\n  by: NGO legal adviser\n  date: 2026-11-10\n"


def test_a_review_is_checked_against_the_clock_and_the_update_date(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "sources:\n", REVIEW + "sources:\n")
    assert not [w for w in warnings_of(content_dir, today=date(2026, 11, 10)) if "warning: review" in w]
    assert f"{path}:8: warning: review date 2026-11-10 is in the future" in warnings_of(
        content_dir, today=date(2026, 11, 9)
    )
    replace_in(path, "updated: 2026-11-01", "updated: 2026-11-15")
    assert f"{path}:8: warning: the text was updated after its review; ask for a new review" in warnings_of(
        content_dir, today=date(2026, 12, 1)
    )


@pytest.mark.parametrize(
    ("review", "line", "message"),
    [
        (
            "review:\n  status: done\n  by: NGO legal adviser\n  date: 2026-11-10\n",
            9,
            "review.status: must be one of: reviewed, changes-needed",
        ),
        ("review:\n  status: reviewed\n  date: 2026-11-10\n", 8, "missing required field 'review.by'"),
        ("review:\n  status: reviewed\n  by: x\n  date: 2026-11-10\n  name: Ana\n", 12, "unknown field 'review.name'"),
    ],
)
def test_a_malformed_review_is_an_error(content_dir, review, line, message):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "sources:\n", review + "sources:\n")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert f"{path}:{line}: {message}" in errors, errors


def add_glossary(content_dir: Path, lang: str, term: str) -> None:
    (content_dir / "glossary" / f"{lang}.yaml").write_text(
        f"translation_status: machine\nterms:\n  - id: passport\n    term: {term}\n"
        "    definition: x\n    translation_of: 'abcdefabcdefabcd'\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("lang", "term", "text", "warns"),
    [
        ("ar", "جواز السفر", "جواز السفر", False),
        ("ar", "جواز السفر", "وبجوازات سفرك", False),  # a prefix and a plural ending
        ("ar", "الحد", "حد", False),  # the article dropped
        ("ar", "جواز السفر", "وثيقة", True),
        ("fr", "Passeport", "passeports", False),
        ("fr", "Passeport", "pièce", True),
        ("uk", "Паспорт", "паспорта", False),
        ("uk", "Паспорт", "документ", True),
    ],
)
def test_a_translated_glossary_link_must_use_its_languages_term(content_dir, lang, term, text, warns):
    add_glossary(content_dir, lang, term)
    path = write_translation(
        content_dir, lang, "money-1", title="T", body=f"Line one.\nLine two [{text}](glossary:passport)."
    )
    expected = f"{path}:16: warning: glossary link '{text}' does not use this language's term for passport: '{term}'"
    assert (expected in warnings_of(content_dir)) == warns, warnings_of(content_dir)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Attention : danger.", 15, "an ordinary space before ':'"),
        ("Vraiment?", 15, "no space before '?'"),
        ("Il dit « oui\u202f».", 15, "an ordinary space after '«'"),
        ("Un.\nDeux ; trois.", 16, "an ordinary space before ';'"),
    ],
)
def test_french_punctuation_needs_a_narrow_no_break_space(content_dir, text, line, message):
    path = write_translation(content_dir, "fr", "money-1", title="T", body=text)
    found = [w for w in warnings_of(content_dir) if "French spacing" in w]
    assert f"{path}:{line}: warning: French spacing: {message}; use a narrow no-break space (U+202F)" in found


def test_french_spacing_ignores_addresses_link_targets_code_and_correct_text(content_dir):
    body = (
        "Voir [ici](article:money-2) et https://example.org/a?b=1 ou `a:b`.\n"
        "Attention\u202f: «\u202foui\u202f» ! Non\u00a0? À 14:30.\n"
    )
    path = write_translation(content_dir, "fr", "money-1", title="T", body=body)
    found = [w for w in warnings_of(content_dir) if "French spacing" in w]
    assert found == [
        f"{path}:16: warning: French spacing: an ordinary space before '!'; use a narrow no-break space (U+202F)"
    ]


def test_check_lists_every_problem_of_a_file_in_one_pass(content_dir):
    # The finding of issue #16: a bad date and an http:// source used to hide
    # the unknown topic, the bad links, the raw HTML and review_by before updated.
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "topic: money", "topic: cooking")
    replace_in(path, "review_by: 2099-11-01", "review_by: 2026-10-01")
    replace_in(path, "url: https://help.unhcr.org/money/", "url: http://help.unhcr.org/money/")
    replace_in(path, "checked: unverified", "checked: 2026-02-30")
    replace_in(path, "Keep a copy", "<b>Keep</b> a copy")
    replace_in(path, "(glossary:passport)", "(glossary:nope)")
    replace_in(path, "(article:money-2)", "(article:no-such)")
    result = CliRunner().invoke(main, ["check", str(content_dir)])
    assert result.exit_code == 1
    found = [
        line.removeprefix(f"{path}:")
        for line in result.output.splitlines()
        if line.startswith(f"{path}:") and "warning:" not in line
    ]
    assert found == [
        "3: unknown topic 'cooking' (topics.yaml lists digital-safety, emergencies, legal-routes, money, rights)",
        "7: review_by must be later than updated",
        "10: sources.0.url: must be an https:// address",
        "11: sources.0.checked: must be 'unverified' or a date YYYY-MM-DD",
        "14: raw HTML is not allowed; write Markdown instead",
        "22: link to a glossary entry that does not exist: glossary:nope",
        "22: link to an article that does not exist: article:no-such",
    ], result.output
    assert "7 errors" in result.output


def test_a_bad_date_still_lets_the_topic_and_body_be_checked_and_the_article_is_not_built(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "updated: 2026-11-01", "updated: 2026-13-01")
    replace_in(path, "topic: money", "topic: cooking")
    replace_in(path, "Keep a copy", "<i>Keep</i> a copy")
    content = load_content(content_dir)
    assert [(p.line, p.message.split(" (")[0]) for p in content.errors] == [
        (3, "unknown topic 'cooking'"),
        (6, "updated: not a valid date."),
        (14, "raw HTML is not allowed; write Markdown instead"),
    ]
    # Checked, never built: a bundle and a translation export see only complete articles.
    assert [a.slug for a in content.partial] == ["money-1"]
    assert "money-1" not in {a.slug for a in content.articles}


def test_front_matter_that_is_not_yaml_still_has_its_body_checked(content_dir):
    path = content_dir / "articles/en/money-1.md"
    replace_in(path, "title: Guide", "title: [unclosed")
    replace_in(path, "(article:money-2)", "(http://example.org)")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert any(e.startswith(f"{path}:5: not valid YAML") for e in errors), errors
    assert f"{path}:22: link must use https://: http://example.org" in errors
    # Links to it from other articles are not reported a second time.
    assert len(errors) == 2, errors


def test_one_bad_glossary_entry_leaves_the_others_linkable(content_dir):
    glossary = content_dir / "glossary/en.yaml"
    glossary.write_text(glossary.read_text() + "  - id: visa\n    term: ''\n    definition: A permit.\n")
    errors = [str(p) for p in load_content(content_dir).errors]
    assert errors == [f"{glossary}:6: terms.1.term: must not be empty"]
    replace_in(content_dir / "articles/en/money-1.md", "(glossary:passport)", "(glossary:visa)")
    assert [str(p) for p in load_content(content_dir).errors] == errors


def test_plural_and_fallback_are_only_for_languages_cldr_lacks(content_dir):
    languages = content_dir / "languages.yaml"
    replace_in(languages, "- code: fr\n", "- code: fr\n  fallback: fr-ca\n")
    languages.write_text(languages.read_text() + "- code: prs\n  name: دری\n  dir: rtl\n  fallback: fa-af\n"
                         "  plural: nplurals=2; plural=(n > 1);\n- code: xq\n  name: X\n  dir: ltr\n"
                         '  plural: "nplurals=2; plural=(n > 1 ? 2 : 0);"\n  fallback: zz\n')  # fmt: skip
    errors = [str(p).split(": ", 1)[1] for p in load_content(content_dir).errors]
    assert errors == [
        "'fallback' is only for a language Babel's CLDR data lacks; CLDR has 'fr', so remove it",
        "plural: '(n > 1 ? 2 : 0)' picks forms [0, 2], but nplurals=2",
        "fallback: 'zz' is not a locale that Babel's CLDR data knows",
    ], errors
