"""`waypost i18n add`: a new language, end to end, from the command to the language switcher."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.bundle.build import build_bundle
from app.cli import main
from app.content.load import load_content
from app.i18n.catalogs import read_catalog
from app.i18n.checks import check
from app.web import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(content_dir: Path, tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """The small content set and a copy of the real catalogs, with a private instance folder."""
    translations = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", translations, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))
    return {"content": content_dir, "translations": translations}


def add(project: dict[str, Path], *args: str):
    return CliRunner().invoke(main, ["i18n", "add", *args, "--content", str(project["content"]),
                                     "--translations", str(project["translations"])])  # fmt: skip


def test_an_added_language_appears_in_the_switcher_after_compile_and_build(project, tmp_path):
    languages_yaml = project["content"] / "languages.yaml"
    before = languages_yaml.read_text(encoding="utf-8")
    result = add(project, "de")
    assert result.exit_code == 0, result.output
    assert "added de (Deutsch, ltr)" in result.output and "waypost i18n compile" in result.output
    # Appended: the file's comments and existing entries stay exactly as they were.
    assert languages_yaml.read_text(encoding="utf-8") == before + "- code: de\n  name: Deutsch\n  dir: ltr\n"
    po = project["translations"] / "de/LC_MESSAGES/messages.po"
    catalog = read_catalog(po)
    assert catalog.num_plurals == 2 and "Plural-Forms: nplurals=2; plural=(n != 1);" in po.read_text()
    assert [p for p in check(project["translations"]) if not p.warning] == []

    # A translator translates one string; compile; build.
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgid "Skip to main content"\nmsgstr ""', 'msgid "Skip to main content"\nmsgstr "Zum Inhalt springen"'))  # fmt: skip
    compiled = CliRunner().invoke(main, ["i18n", "compile", "--translations", str(project["translations"])])
    assert compiled.exit_code == 0, compiled.output
    content = load_content(project["content"])
    assert content.errors == [], content.errors  # no topic names in German yet is fine
    build_bundle(content, tmp_path / "de.bundle")
    app = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "de.bundle"),
                      "TRANSLATIONS_DIR": str(project["translations"])})  # fmt: skip
    client = app.test_client()
    assert '<a href="/de/" lang="de" dir="ltr" hreflang="de">Deutsch</a>' in client.get("/en/").get_data(as_text=True)
    german = client.get("/de/money/").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in german and "Zum Inhalt springen" in german
    # Topic names not translated yet fall back to English, marked as English.
    assert '<h1 lang="en" dir="ltr">Money (en)</h1>' in german
    assert client.get("/", headers={"Accept-Language": "de-AT,de;q=0.9"}).headers["Location"] == "/de/"


def test_a_right_to_left_language_gets_its_endonym_and_direction_from_cldr(project):
    result = add(project, "ps")
    assert result.exit_code == 0, result.output
    assert "- code: ps\n  name: پښتو\n  dir: rtl\n" in (project["content"] / "languages.yaml").read_text()
    assert (project["translations"] / "ps/LC_MESSAGES/messages.po").exists()


def test_a_regional_code_gets_a_babel_catalog_folder_and_names_can_be_given(project):
    result = add(project, "pt-br", "--name", "Português do Brasil", "--dir", "ltr")
    assert result.exit_code == 0, result.output
    assert "- code: pt-br\n  name: Português do Brasil\n" in (project["content"] / "languages.yaml").read_text()
    assert (project["translations"] / "pt_BR/LC_MESSAGES/messages.po").exists()
    assert load_content(project["content"]).errors == []


def test_a_half_added_language_is_completed(project):
    (project["translations"] / "fr").rename(project["translations"] / "fr-gone")
    result = add(project, "fr")
    assert result.exit_code == 0, result.output
    assert "created from messages.pot" in result.output and "added fr" not in result.output
    assert (project["content"] / "languages.yaml").read_text().count("code: fr") == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("zz", "'zz' is not a language that Babel's CLDR data knows"),
        ("en", "'en' is the source language"),
        ("fr", "'fr' is set up already"),
        ("Not a code!", "is not a language code"),
    ],
)
def test_a_code_that_cannot_be_added_gives_one_clear_line_and_changes_nothing(project, code, message):
    before = (project["content"] / "languages.yaml").read_text()
    catalogs = sorted(project["translations"].rglob("*.po"))
    result = add(project, code)
    assert result.exit_code == 1
    assert message in result.output and result.output.count("error: ") == 1 and "Traceback" not in result.output
    assert (project["content"] / "languages.yaml").read_text() == before
    assert sorted(project["translations"].rglob("*.po")) == catalogs


def serve(project, tmp_path):
    compiled = CliRunner().invoke(main, ["i18n", "compile", "--translations", str(project["translations"])])
    assert compiled.exit_code == 0, compiled.output
    content = load_content(project["content"])
    assert content.errors == [], content.errors
    build_bundle(content, tmp_path / "new.bundle")
    return create_app({"TESTING": True, "BUNDLE": str(tmp_path / "new.bundle"),
                       "TRANSLATIONS_DIR": str(project["translations"])}).test_client()  # fmt: skip


def test_a_language_cldr_lacks_is_added_with_its_plural_rule_and_fallback(project, tmp_path):
    result = add(project, "prs", "--name", "دری", "--dir", "rtl",
                 "--plural", "nplurals=2; plural=(n != 1);", "--fallback", "fa")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        (project["content"] / "languages.yaml")
        .read_text(encoding="utf-8")
        .endswith("- code: prs\n  name: دری\n  dir: rtl\n  plural: nplurals=2; plural=(n != 1);\n  fallback: fa\n")
    )
    # The gettext name of a variety (as sr@latin): the fallback's data, the language's own catalog.
    po = project["translations"] / "fa@prs/LC_MESSAGES/messages.po"
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in po.read_text(encoding="utf-8")
    assert not [p for p in check(project["translations"]) if p.path == po]  # not warned for differing from fa
    assert (project["content"] / "articles/prs").is_dir()
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgid "Skip to main content"\nmsgstr ""', 'msgid "Skip to main content"\nmsgstr "رفتن به متن اصلی"'))  # fmt: skip
    page = serve(project, tmp_path).get("/prs/money/money-1").get_data(as_text=True)
    assert '<html lang="prs" dir="rtl">' in page and "رفتن به متن اصلی" in page
    # Dates as the fallback writes them: Persian (Iran)'s month name, not English or Afghan Persian's.
    assert "1 نوامبر 2026" in page and "November" not in page


def test_without_a_fallback_cldr_s_own_approximation_is_used(project, tmp_path):
    # CLDR's language aliases map prs to fa_AF: Persian as written in Afghanistan.
    result = add(project, "prs", "--name", "دری", "--dir", "rtl")
    assert result.exit_code == 0, result.output
    assert "  fallback: fa-af\n" in (project["content"] / "languages.yaml").read_text(encoding="utf-8")
    assert "plural=(n > 1);" in (project["translations"] / "fa_AF@prs/LC_MESSAGES/messages.po").read_text()
    assert "1 نومبر 2026" in serve(project, tmp_path).get("/prs/money/money-1").get_data(as_text=True)


def test_the_plural_rule_given_is_the_one_the_pages_use(project, tmp_path):
    # A made-up language with a dual: two articles take the second of three forms.
    result = add(project, "xq", "--name", "Dualish", "--dir", "ltr",
                 "--plural", "nplurals=3; plural=(n==1 ? 0 : n==2 ? 1 : 2);")  # fmt: skip
    assert result.exit_code == 0, result.output
    po = project["translations"] / "en@xq/LC_MESSAGES/messages.po"
    text = po.read_text(encoding="utf-8")
    old = 'msgid "%(num)d article"\nmsgid_plural "%(num)d articles"\nmsgstr[0] ""\nmsgstr[1] ""\nmsgstr[2] ""'
    assert old in text
    po.write_text(text.replace(old, old.replace('[0] ""', '[0] "%(num)d one"').replace('[1] ""', '[1] "%(num)d two"')
                               .replace('[2] ""', '[2] "%(num)d many"')))  # fmt: skip
    home = serve(project, tmp_path).get("/xq/").get_data(as_text=True)
    assert '<p class="count">2 two</p>' in home


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deu"], "'deu' is an old or three-letter code; CLDR and browsers use 'de': run `waypost i18n add de`"),
        (["ger"], "CLDR and browsers use 'de'"),
        (["iw"], "CLDR and browsers use 'he'"),
        (
            ["De_de"],
            "'De_de' is not written as Waypost writes language codes (lower case, '-' between parts): "
            "did you mean 'de' or 'de-de'?",
        ),  # fmt: skip
        (["pt_BR"], "did you mean 'pt' or 'pt-br'?"),
        (["DEU"], "did you mean 'de'?"),
        (["Not a code!"], "is not a language code: write it as in web addresses"),
        (["xq", "--name", "X", "--dir", "ltr"], "'xq' needs a plural rule: give --plural"),
        (
            ["xq", "--name", "X", "--dir", "ltr", "--plural", "nplurals=2; plural=(n > 1 ? 2 : 0);"],
            "picks forms [0, 2], but nplurals=2",
        ),  # fmt: skip
        (
            ["xq", "--name", "X", "--dir", "ltr", "--fallback", "zz"],
            "'zz' is not a locale that Babel's CLDR data knows",
        ),
        (["de", "--fallback", "fr"], "leave out --plural and --fallback"),
    ],
)
def test_a_code_with_a_better_form_is_refused_with_it(project, args, message):
    before = (project["content"] / "languages.yaml").read_text()
    folders = sorted(project["translations"].iterdir())
    result = add(project, *args)
    assert result.exit_code == 1
    assert message in result.output and result.output.count("error: ") == 1, result.output
    assert (project["content"] / "languages.yaml").read_text() == before
    assert sorted(project["translations"].iterdir()) == folders
    assert not (project["content"] / "articles" / args[0]).exists()


def test_adding_a_language_creates_its_content_folder(project):
    assert not (project["content"] / "articles/ps").exists()
    result = add(project, "ps")
    assert result.exit_code == 0, result.output
    assert (project["content"] / "articles/ps").is_dir() and "articles/ps/: the translated articles go here" in (
        result.output
    )
