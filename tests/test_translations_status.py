"""Content translations: the status report, the outdated notice readers see, and export."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask_babel import force_locale, gettext

from app.bundle.build import build_bundle
from app.cli import main
from app.content.load import load_content
from app.i18n.catalogs import Counts as counts_type
from app.i18n.catalogs import counts, read_catalog
from app.web import create_app

from .helpers import write_translation

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "articles/en/rights-1.md"
# Interface strings in the real template; the small content set has 10 articles and 1 glossary entry.
STRINGS = sum(1 for m in read_catalog(ROOT / "translations/messages.pot") if m.id)


def interface(lang: str) -> counts_type:
    """Return a catalog's own counts: strings added since the translators' last round are missing until then."""
    return counts(
        read_catalog(ROOT / "translations/messages.pot"),
        read_catalog(ROOT / f"translations/{lang}/LC_MESSAGES/messages.po"),
    )


def edit_source(content_dir: Path) -> None:
    """Change the English text of rights-1, which ar, fa and fr translate."""
    path = content_dir / SOURCE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Keep a copy of every paper", "Always keep a copy of every paper"), encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(main, ["i18n", *args])


def status_json(content_dir: Path, *args: str) -> tuple[int, dict]:
    result = run("status", "--content", str(content_dir), "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def by_code(report: dict) -> dict[str, dict]:
    return {language["code"]: language for language in report["languages"]}


def test_status_counts_interface_articles_and_glossary_per_language(content_dir):
    write_translation(content_dir, "fr", "money-1", title="Argent", body="Texte.", translation_status="reviewed")
    code, report = status_json(content_dir)
    assert code == 0
    languages = by_code(report)
    assert list(languages) == ["ar", "fa", "fr", "es", "uk"] and report["source_language"] == "en"
    fr = languages["fr"]
    own = interface("fr")
    assert fr["interface"] == {"catalog": str(ROOT / "translations/fr/LC_MESSAGES/messages.po"), "total": STRINGS,
                               "translated": own.translated, "fuzzy": own.fuzzy, "missing": own.missing}  # fmt: skip
    assert fr["articles"]["total"] == 10 and fr["articles"]["up_to_date"] == 2 and fr["articles"]["missing"] == 8
    assert fr["articles"]["machine"] == 1 and fr["articles"]["unreviewed"] == 0
    assert "money-2" in fr["articles"]["missing_ids"] and fr["articles"]["outdated_ids"] == []
    assert fr["glossary"] == {"total": 1, "up_to_date": 0, "outdated": 0, "missing": 1, "machine": 0,
                              "unreviewed": 0, "outdated_ids": [], "missing_ids": ["passport"]}  # fmt: skip
    # (translated strings + 2 articles + 0 terms) of (every string + 10 + 1)
    assert fr["complete"] == round(100 * (own.translated + 2) / (STRINGS + 11), 1)


def test_editing_an_english_article_makes_its_translations_outdated_in_status(content_dir):
    edit_source(content_dir)
    code, report = status_json(content_dir)
    languages = by_code(report)
    for lang in ("ar", "fa", "fr"):
        assert languages[lang]["articles"]["outdated_ids"] == ["rights-1"], lang
        assert languages[lang]["articles"]["up_to_date"] == 0
    assert languages["es"]["articles"]["outdated"] == 0
    table = run("status", "--content", str(content_dir), "--lang", "fr")
    assert table.exit_code == 0, table.output
    assert f"outdated  {content_dir / 'articles/fr/rights-1.md'}  (source: {content_dir / SOURCE})" in table.output
    header, columns, row = table.output.splitlines()[:3]
    assert (
        "interface strings" in header
        and "outdated" in columns
        and row.split()[:5]
        == ["fr", str(interface("fr").translated), str(interface("fr").fuzzy), str(interface("fr").missing), "0"]
    )


def test_fail_under_gates_a_build_and_names_the_languages_under_it(content_dir):
    # es and uk have the interface only; ar, fa and fr one article more.
    interface_only = round(100 * interface("es").translated / (STRINGS + 11), 1)
    one_more = round(100 * (interface("fr").translated + 1) / (STRINGS + 11), 1)
    between = f"{(interface_only + one_more) / 2:.2f}"
    code, _report = status_json(content_dir, "--fail-under", between)
    assert code == 1
    result = run("status", "--content", str(content_dir), "--fail-under", between)
    assert result.exit_code == 1
    assert f"error: under {float(between):g}%: es ({interface_only:g}%), uk ({interface_only:g}%)" in result.output
    assert run("status", "--content", str(content_dir), "--fail-under", str(interface_only)).exit_code == 0


def test_status_explains_a_missing_language_or_catalog_folder(content_dir, tmp_path):
    result = run("status", "--content", str(content_dir), "--lang", "de")
    assert result.exit_code == 1 and "'de' is not a translated language" in result.output
    result = run("status", "--content", str(content_dir), "--translations", str(tmp_path / "none"))
    assert result.exit_code == 1 and "messages.pot: file not found" in result.output
    assert "Traceback" not in result.output


def test_readers_of_an_outdated_translation_see_a_notice_linking_to_the_current_source(
    content_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("WAYPOST_INSTANCE_PATH", str(tmp_path / "instance"))

    def french_page() -> tuple[str, str, str]:
        build_bundle(load_content(content_dir), tmp_path / "fr.bundle")
        app = create_app({"TESTING": True, "BUNDLE": str(tmp_path / "fr.bundle")})
        html = app.test_client().get("/fr/rights/rights-1").get_data(as_text=True)
        with app.test_request_context(), force_locale("fr"):
            notice = gettext("The %(source)s version changed on %(date)s; this translation may be out of date.",
                             source="English", date="1 novembre 2026")  # fmt: skip
            link = gettext("Read the current %(source)s version", source="English")
        return html, notice, link

    html, notice, link = french_page()
    assert notice not in html and link not in html
    edit_source(content_dir)
    html, notice, link = french_page()
    assert notice.startswith("La version en English a été modifiée le 1 novembre 2026")
    assert notice in html
    assert f'<a href="/en/rights/rights-1" hreflang="en">{link}</a>' in html
    assert '<div class="notices" lang="fr" dir="ltr">' in html


def test_export_to_a_zip_gives_missing_articles_ready_to_translate_and_outdated_ones_with_their_source(
    content_dir, tmp_path
):
    edit_source(content_dir)
    out = tmp_path / "fr-todo.zip"
    result = run("export", "fr", str(out), "--content", str(content_dir))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        files = {name: zf.read(name).decode("utf-8") for name in names}
    assert names[0] == "README.txt" and len(names) == 1 + 9 + 2
    assert files["articles/fr/rights-1.md"] == (content_dir / "articles/fr/rights-1.md").read_text()
    assert files["en/rights-1.md"] == (content_dir / SOURCE).read_text()
    todo = files["articles/fr/money-1.md"]
    source = next(a for a in load_content(content_dir).articles if a.lang == "en" and a.slug == "money-1")
    assert f"translation_of: {source.source_hash}\ntranslation_status: todo" in todo
    stamp = next(line for line in files["README.txt"].splitlines() if "waypost i18n stamp" in line)
    assert "content/articles/fr/money-1.md" in stamp and "content/articles/fr/rights-1.md" in stamp
    assert "9 missing and 1 out-of-date articles." in files["README.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    # Written the same way twice, the zip is the same: a shared copy can be compared.
    first = out.read_bytes()
    run("export", "fr", str(out), "--content", str(content_dir))
    assert out.read_bytes() == first


def test_exported_articles_dropped_back_in_need_a_status_then_check_and_stamp(content_dir, tmp_path):
    out = tmp_path / "es-todo"
    result = run("export", "es", str(out), "--content", str(content_dir), "--only", "missing")
    assert result.exit_code == 0, result.output
    assert (out / "README.txt").exists() and len(list((out / "articles/es").iterdir())) == 10
    target = content_dir / "articles/es/money-1.md"
    target.parent.mkdir()
    shutil.copy(out / "articles/es/money-1.md", target)
    problems = [str(p) for p in load_content(content_dir).errors]
    assert any("es/money-1.md" in p and "translation_status: must be one of" in p for p in problems), problems
    text = target.read_text().replace("title: Guide money 1", "title: Guía dinero 1")
    target.write_text(text.replace("translation_status: todo", "translation_status: unreviewed  #"))
    assert load_content(content_dir).errors == []
    stamped = run("stamp", str(target), "--content", str(content_dir))
    assert stamped.exit_code == 0, stamped.output
    _code, report = status_json(content_dir)
    assert by_code(report)["es"]["articles"]["up_to_date"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["de", "x.zip"], "'de' is not a translated language"),
        (["en", "x.zip"], "'en' is not a translated language"),
        (["fr", "full-folder"], "is a folder that is not empty"),
    ],
)
def test_export_refuses_with_one_clear_line(content_dir, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "full-folder").mkdir()
    (tmp_path / "full-folder/keep.txt").write_text("mine")
    result = run("export", *args, "--content", str(content_dir))
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.zip").exists() and (tmp_path / "full-folder/keep.txt").read_text() == "mine"


def test_export_with_nothing_to_do_writes_nothing(content_dir, tmp_path):
    result = run("export", "ar", str(tmp_path / "ar.zip"), "--content", str(content_dir), "--only", "outdated")
    assert result.exit_code == 0 and "nothing to export" in result.output
    assert not (tmp_path / "ar.zip").exists()
