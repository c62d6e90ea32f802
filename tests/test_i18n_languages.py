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
        ("Not a code!", "is not a language that Babel's CLDR data knows"),
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
