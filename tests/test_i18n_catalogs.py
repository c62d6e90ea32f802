"""Interface catalogs: extraction, update, and the checks CI runs on every catalog."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.i18n import catalogs
from app.i18n.checks import check

from .helpers import must

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"


@pytest.fixture
def translations(tmp_path: Path) -> Path:
    """A copy of the real catalogs, beside a copy of the code they come from."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, target, ignore=shutil.ignore_patterns("*.mo"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors(translations: Path) -> list[str]:
    return [str(p) for p in check(translations) if not p.warning]


def test_the_real_catalogs_have_no_errors_and_no_warnings():
    assert [str(p) for p in check(TRANSLATIONS)] == []


def test_extract_and_update_leave_up_to_date_catalogs_byte_for_byte_alone(translations):
    before = {p: p.read_bytes() for p in translations.rglob("*.po*")}
    pot, changed = catalogs.write_template(translations)
    assert not changed
    assert not any(changed for _path, changed in catalogs.update(translations))
    assert {p: p.read_bytes() for p in translations.rglob("*.po*")} == before


def test_extract_reads_python_new_template_folders_and_javascript_with_translator_comments(translations):
    root = translations.parent
    (root / "app/web/templates/offline").mkdir(exist_ok=True)
    (root / "app/web/templates/offline/pack.html").write_text(
        '{# Translators: the button that saves a topic on the phone #}\n'
        '<button>{{ _("Save for offline reading") }}</button>\n'
        '<p>{{ ngettext("%(num)d page saved", "%(num)d pages saved", n) }}</p>\n'
    )  # fmt: skip
    (root / "app/offline.py").write_text(
        "from flask_babel import gettext, lazy_gettext\n"
        "TITLE = lazy_gettext('Saved guidance')\n"
        "def f():\n    return gettext('Nothing saved yet')\n"
    )  # fmt: skip
    (root / "service_worker").mkdir()
    (root / "service_worker/sw.js").write_text("const label = gettext('Offline');\nconst n = 1;\n")
    pot, changed = catalogs.write_template(translations)
    assert changed
    template = catalogs.read_catalog(pot)
    save = must(template.get("Save for offline reading"))
    assert save.auto_comments == ["the button that saves a topic on the phone"]
    assert save.locations == [("app/web/templates/offline/pack.html", 2)]
    assert must(template.get(("%(num)d page saved", "%(num)d pages saved"))).pluralizable
    assert template.get("Saved guidance") and template.get("Nothing saved yet")
    assert must(template.get("Offline")).locations == [("service_worker/sw.js", 1)]
    assert template.get("Skip to main content")  # the strings already there stay


def test_update_adds_new_strings_marks_changed_ones_fuzzy_and_keeps_headers(translations):
    pot = translations / "messages.pot"
    ar_path = translations / "ar/LC_MESSAGES/messages.po"
    # Strings added since the last translation round are missing (or fuzzy) already.
    before = catalogs.counts(catalogs.read_catalog(pot), catalogs.read_catalog(ar_path))
    edit(pot, 'msgid "Search the guidance"', 'msgid "Search all the guidance"')
    edit(pot, 'msgid "Topics"\nmsgstr ""\n', 'msgid "Topics"\nmsgstr ""\n\nmsgid "Brand new string"\nmsgstr ""\n')
    results = dict(catalogs.update(translations))
    assert all(results.values()) and len(results) == 5
    ar = catalogs.read_catalog(ar_path)
    assert must(ar.get("Brand new string")).string == ""
    changed = must(ar.get("Search all the guidance"))
    assert changed.fuzzy and changed.string  # the old translation, as a suggestion to check
    assert ar.num_plurals == 6 and "Language-Team: Waypost machine translation" in ar_path.read_text()
    counts = catalogs.counts(catalogs.read_catalog(pot), ar)
    assert (counts.fuzzy - before.fuzzy, counts.missing - before.missing) == (1, 1)
    assert counts.translated == before.translated - 1 and counts.total == before.total + 1
    assert not any(changed for _path, changed in catalogs.update(translations))


def test_update_drops_a_suggestion_whose_placeholders_are_another_sentences(translations):
    pot = translations / "messages.pot"
    fr_path = translations / "fr/LC_MESSAGES/messages.po"
    fr = catalogs.read_catalog(fr_path)
    expires = next(m for m in catalogs.messages(fr) if m.id == "Expires on %(date)s.")
    assert expires.string and not expires.fuzzy
    # Only the placeholder differs: Babel's closest old string is "Expires on %(date)s.", another sentence.
    edit(pot, 'msgid "Expires on %(date)s."', 'msgid "Expires on %(day)s."')
    # The same placeholder, a word changed: a suggestion worth checking.
    edit(pot, 'msgid "Search the guidance"', 'msgid "Search all the guidance"')
    catalogs.update(translations)
    fr = catalogs.read_catalog(fr_path)
    guessed = must(fr.get("Expires on %(day)s."))
    assert guessed.string == "" and not guessed.fuzzy and not guessed.previous_id
    kept = must(fr.get("Search all the guidance"))
    assert kept.fuzzy and kept.string == "Chercher dans les conseils"
    assert errors(translations) == []


AR = "ar/LC_MESSAGES/messages.po"
FR = "fr/LC_MESSAGES/messages.po"
UK = "uk/LC_MESSAGES/messages.po"

# (catalog, text, replacement, what the error says)
BROKEN = [
    (FR, "version en %(source)s a été", "version en %(langue)s a été", "placeholder %(langue)s is not in the source"),
    (FR, "Lire la version actuelle en %(source)s", "Lire la version actuelle", "placeholder %(source)s is missing"),
    (UK, "%(date)s, тому", "%(date)d, тому", "placeholder %(date)d is not in the source"),
    (FR, "Mis à jour le %(date)s", "Mis à jour à 100 % le %(date)s", "write a literal % as %%"),
    (AR, 'msgstr[5] "%(num)d مقالة"\n', "", "plural form msgstr[5] is missing"),
    (AR, 'msgstr[2] "مقالتان"', 'msgstr[2] ""', "plural form msgstr[2] is missing"),
    (
        UK,
        'msgstr[1] "%(num)d статті"',
        'msgstr[1] "%(count)d статті"',
        "msgstr[1]: placeholder %(count)d is not in the source",
    ),
    (
        FR,
        '"Plural-Forms: nplurals=3; plural=(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;\\n"\n',
        "",
        "no Plural-Forms header",
    ),
    (FR, 'msgid "Topics"', 'msgid "Topics', 'does not compile: not a keyword and a "quoted string"'),
    (FR, 'msgstr "Sujets"', 'msgstr "Les "sujets""', "does not compile"),
    (
        FR,
        'msgstr[2] "%(num)d articles"',
        'msgstr[2] "%(num)d articles"\nmsgstr[3] "%(num)d articles"',
        "more translations than num_plurals",
    ),
]


@pytest.mark.parametrize(("catalog", "old", "new", "message"), BROKEN)
def test_check_reports_a_broken_catalog_with_file_and_line(translations, catalog, old, new, message):
    edit(translations / catalog, old, new)
    found = errors(translations)
    assert len(found) >= 1
    assert all(f.startswith(f"{translations / catalog}:") for f in found), found
    assert any(message in f for f in found), found
    # Every message points at a real line of the file, where the broken text is.
    lines = {int(f.split(":")[1]) for f in found}
    text = (translations / catalog).read_text(encoding="utf-8").splitlines()
    assert all(1 <= n <= len(text) for n in lines), found


def test_check_accepts_what_is_legitimate(translations):
    # A plural form may leave out the count ("one article"), but not all forms may.
    edit(translations / UK, 'msgstr[0] "%(num)d стаття"', 'msgstr[0] "одна стаття"')
    # A fuzzy entry is not used, so it may be wrong until someone checks it.
    edit(
        translations / FR,
        '#, python-format\nmsgid "Read the current',
        '#, fuzzy, python-format\nmsgid "Read the current',
    )
    edit(translations / FR, "Lire la version actuelle en %(source)s", "Lire la version actuelle")
    # An untranslated string is missing, not broken.
    edit(translations / FR, 'msgstr "Rechercher"', 'msgstr ""')
    assert errors(translations) == []
    edit(translations / UK, 'msgstr[1] "%(num)d статті"', 'msgstr[1] "кілька статей"')
    edit(translations / UK, 'msgstr[2] "%(num)d статей"', 'msgstr[2] "багато статей"')
    assert any("placeholder %(num)d is in no plural form" in e for e in errors(translations))


def test_plural_rules_that_differ_from_cldr_and_a_stale_template_are_warnings(translations):
    # Weblate's older rule for Persian has one form where CLDR 49 has two.
    edit(translations / "fa/LC_MESSAGES/messages.po", "nplurals=2; plural=(n > 1);", "nplurals=1; plural=0;")
    # Drop every plural string's second form, so only the rule itself differs.
    fa = translations / "fa/LC_MESSAGES/messages.po"
    fa.write_text(re.sub(r'^msgstr\[1\] ".*"\n', "", fa.read_text(), flags=re.M))
    (translations.parent / "app/web/templates/new.html").write_text('{{ _("A string nobody extracted") }}')
    problems = check(translations)
    assert [p.message[:17] for p in problems if not p.warning] == []
    warnings = [str(p) for p in problems]
    assert any("1 plural forms where Babel's CLDR data has 2" in w for w in warnings), warnings
    assert any("1 strings in the code are not in the template yet (first: 'A string nobody extracted')" in w
               for w in warnings)  # fmt: skip


def test_the_check_command_fails_with_one_line_per_error_and_passes_on_good_catalogs(translations):
    runner = CliRunner()
    ok = runner.invoke(main, ["i18n", "check", "--translations", str(translations)])
    assert ok.exit_code == 0, ok.output
    assert "0 errors, 0 warnings" in ok.output
    edit(translations / FR, "Lire la version actuelle en %(source)s", "Lire la version actuelle en %(langue)s")
    bad = runner.invoke(main, ["i18n", "check", "--translations", str(translations)])
    assert bad.exit_code == 1
    assert "placeholder %(langue)s is not in the source" in bad.output
    assert "Traceback" not in bad.output and bad.output.count("error: ") == 1


def test_extract_update_and_compile_commands_explain_a_missing_folder(tmp_path):
    runner = CliRunner()
    for command in ("extract", "update", "check"):
        result = runner.invoke(main, ["i18n", command, "--translations", str(tmp_path / "none")])
        assert result.exit_code == 1, (command, result.output)
        assert "error: " in result.output and "Traceback" not in result.output
