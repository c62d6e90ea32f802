"""`waypost i18n`: interface catalogs and content translations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli.console import DEFAULT_CONTENT, DEFAULT_TRANSLATIONS, count, fail

translations_option = click.option(
    "--translations", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_TRANSLATIONS,
    show_default=True, help="Folder of babel.cfg, messages.pot and the catalogs.",
)  # fmt: skip
content_option = click.option(
    "--content", "content_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CONTENT,
    show_default=True, help="Content folder.",
)  # fmt: skip


@click.group()
def i18n() -> None:
    """Interface catalogs and content translations."""


@i18n.command("extract")
@translations_option
def i18n_extract(translations: Path) -> None:
    """Collect the interface strings of the code and templates into messages.pot.

    What is read is set in babel.cfg: app/**.py, app/**/templates/**.html, and
    the JavaScript of service_worker/ and app/**/static/.

    \b
    Example:
      waypost i18n extract && waypost i18n update
    """
    from app.i18n.catalogs import write_template

    pot, changed = _catalog_call(lambda: write_template(translations))
    click.echo(f"{pot}: {'updated' if changed else 'already up to date'}")


@i18n.command("update")
@translations_option
def i18n_update(translations: Path) -> None:
    """Bring every catalog in line with messages.pot.

    New strings arrive untranslated, changed ones as fuzzy suggestions to
    check; strings the code no longer uses are kept as obsolete entries.

    \b
    Example:
      waypost i18n extract && waypost i18n update
    """
    from app.i18n.catalogs import update

    for path, changed in _catalog_call(lambda: update(translations)):
        click.echo(f"{path}: {'updated' if changed else 'already up to date'}")


@i18n.command("compile")
@translations_option
def i18n_compile(translations: Path) -> None:
    """Compile every interface catalog, failing on any that does not compile.

    \b
    Example:
      waypost i18n compile
    """
    from app.i18n.runtime import compile_catalogs

    problems = compile_catalogs(translations, translations)
    for problem in problems:
        click.secho(problem, fg="red", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"compiled the catalogs in {translations}")


@i18n.command("check")
@translations_option
def i18n_check(translations: Path) -> None:
    """Check every catalog: it compiles, placeholders match, plural forms are all there.

    Warnings (plural rules that differ from CLDR's, a template older than the
    code) are shown but do not fail.

    \b
    Example:
      waypost i18n check
    """
    from app.i18n.checks import check

    problems = _catalog_call(lambda: check(translations))
    for problem in problems:
        click.secho(str(problem), fg="yellow" if problem.warning else "red", err=True)
    errors = [p for p in problems if not p.warning]
    if errors:
        fail(f"{count(len(errors), 'catalog error')}: until they are fixed, readers see wrong or English text")
    click.echo(f"catalogs in {translations}: 0 errors, {count(len(problems), 'warning')}")


@i18n.command("add")
@click.argument("lang")
@click.option("--name", help="The language's own name for itself [default: from CLDR].")
@click.option("--dir", "direction", type=click.Choice(["ltr", "rtl"]), help="Writing direction [default: from CLDR].")
@click.option("--plural", metavar="RULE",
              help='For a language CLDR lacks: its plural rule, e.g. "nplurals=2; plural=(n != 1);".')  # fmt: skip
@click.option("--fallback", metavar="LOCALE",
              help="For a language CLDR lacks: the CLDR locale whose dates and numbers (and plural rule, "
              "without --plural) it uses, e.g. fa-af.")  # fmt: skip
@content_option
@translations_option
def i18n_add(lang: str, name: str | None, direction: str | None, plural: str | None, fallback: str | None,
             content_dir: Path, translations: Path) -> None:  # fmt: skip
    """Add a language: list it in languages.yaml, create its interface catalog and its content folder.

    LANG is the code used in web addresses, such as ps or pt-br. The endonym,
    the writing direction and the plural rule come from CLDR. A language CLDR
    lacks needs --name and --dir, and --plural or --fallback (or both).

    \b
    Example:
      waypost i18n add ps
      waypost i18n add prs --name دری --dir rtl --fallback fa-af --plural "nplurals=2; plural=(n != 1);"
    """
    from app.i18n.languages import add_language

    try:
        added = add_language(content_dir, translations, lang, name, direction, plural, fallback)
    except ValueError as exc:
        fail(str(exc))
    if added.configured:
        extra = "".join(f", {key} {value}" for key, value in (("plural rule", added.plural),
                        ("dates and numbers as", added.fallback)) if value)  # fmt: skip
        click.echo(f"{content_dir / 'languages.yaml'}: added {added.code} ({added.name}, {added.dir}{extra})")
    if added.created_catalog:
        click.echo(f"{added.catalog}: created from messages.pot")
    click.echo(f"{added.folder}/: the translated articles go here")
    click.echo(f"Next: translate {added.catalog} (Poedit or Weblate), then run `waypost i18n compile` and "
               "`waypost build`; the language then appears in the language switcher.")  # fmt: skip


@i18n.command("status")
@content_option
@translations_option
@click.option("--lang", help="Show one language, with every outdated or missing file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for dashboards.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Exit 1 if any language is less complete than this.")  # fmt: skip
@click.option("--fail-under-reviewed", type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Exit 1 if any language has less than this reviewed by a second person.")  # fmt: skip
def i18n_status(content_dir: Path, translations: Path, lang: str | None, as_json: bool,
                fail_under: float | None, fail_under_reviewed: float | None) -> None:  # fmt: skip
    """Show how complete each language is: interface, articles and glossary.

    A language is complete to the percentage of interface strings, articles
    and glossary entries that are translated and up to date. "reviewed" and
    "machine" are the parts of it checked by a second person and made by
    machine that nobody checked; the rest is by a person, not checked yet.

    \b
    Example:
      waypost i18n status
      waypost i18n status --lang ar
      waypost i18n status --json --fail-under 90
      waypost i18n status --fail-under-reviewed 50
    """
    from app.content.load import load_content
    from app.i18n import status as translation_status

    content = load_content(content_dir)
    if not content.languages:
        fail(f"cannot read the languages of {content_dir}: run `waypost check {content_dir}`")
    if content.errors:
        errors = count(len(content.errors), "error")
        click.secho(f"warning: {content_dir} has {errors}; articles that do not load count "
                    "as missing (run `waypost check`)", fg="yellow", err=True)  # fmt: skip
    languages = _catalog_call(lambda: translation_status.status(content, translations))
    if lang:
        languages = [s for s in languages if s.code == lang]
        if not languages:
            fail(f"'{lang}' is not a translated language in {content_dir / 'languages.yaml'}")
    if as_json:
        click.echo(json.dumps(translation_status.report(content, languages), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(translation_status.table(languages)))
        if lang:
            click.echo("\n".join(translation_status.details(languages[0], content)) or "nothing to do")
    under = [s for s in languages if fail_under is not None and s.complete < fail_under]
    if under:
        fail("under " + f"{fail_under:g}%: " + ", ".join(f"{s.code} ({s.complete:g}%)" for s in under))
    unchecked = [s for s in languages if fail_under_reviewed is not None and s.reviewed < fail_under_reviewed]
    if unchecked:
        fail(f"under {fail_under_reviewed:g}% reviewed: " + ", ".join(f"{s.code} ({s.reviewed:g}%, "
             f"{s.machine:g}% machine-made)" for s in unchecked))  # fmt: skip


@i18n.command("export")
@click.argument("lang")
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--only", type=click.Choice(["all-needed", "outdated", "missing"]), default="all-needed",
              show_default=True, help="Which articles to export.")  # fmt: skip
@content_option
def i18n_export(lang: str, output: Path, only: str, content_dir: Path) -> None:
    """Export a language's outdated and missing articles to translate offline.

    OUTPUT is a .zip file or a new folder; its README.txt says how to bring
    the translations back.

    \b
    Example:
      waypost i18n export ar ar-to-translate.zip
    """
    from app.content.load import load_content
    from app.i18n.translations import export

    content = load_content(content_dir)
    if not content.languages:
        fail(f"cannot read the languages of {content_dir}: run `waypost check {content_dir}`")
    try:
        written = export(content, lang, output, only)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    if not written:
        click.echo(f"nothing to export: no {'outdated or missing' if only == 'all-needed' else only} "
                   f"articles in '{lang}'")  # fmt: skip
        return
    click.echo(f"{output}: {count(len(written) - 1, 'file')} and README.txt")


@i18n.command("stamp")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@content_option
def i18n_stamp(files: tuple[Path, ...], content_dir: Path) -> None:
    """Mark translations as made from the current source text.

    Run it after bringing a translation up to date with its source article.

    \b
    Example:
      waypost i18n stamp content/articles/ar/keep-receipts.md
    """
    from app.content.load import load_content
    from app.i18n.translations import stamp

    content = load_content(content_dir)
    for path in files:
        try:
            click.echo(f"{path}: translation_of {stamp(content, path)}")
        except ValueError as exc:
            fail(str(exc))


def _catalog_call(call):
    """Run a catalog operation, turning a missing or broken file into one error line."""
    from babel import UnknownLocaleError
    from babel.messages.pofile import PoFileError

    try:
        return call()
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: file not found")
    except (PoFileError, ValueError, UnknownLocaleError) as exc:
        fail(str(exc))
