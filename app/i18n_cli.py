"""`waypost i18n`: interface catalogs and content translations."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .console import DEFAULT_CONTENT, DEFAULT_TRANSLATIONS, fail
from .content import load_content


@click.group()
def i18n() -> None:
    """Interface catalogs and content translations."""


@i18n.command("compile")
@click.option("--translations", type=click.Path(path_type=Path),
              default=DEFAULT_TRANSLATIONS, show_default=True)  # fmt: skip
def i18n_compile(translations: Path) -> None:
    """Compile every interface catalog, failing on any that does not compile.

    \b
    Example:
      waypost i18n compile
    """
    from .i18n import compile_catalogs

    problems = compile_catalogs(translations, translations)
    for problem in problems:
        click.secho(problem, fg="red", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"compiled the catalogs in {translations}")


@i18n.command("stamp")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--content", "content_dir", default=DEFAULT_CONTENT, type=click.Path(path_type=Path),
              show_default=True)  # fmt: skip
def i18n_stamp(files: tuple[Path, ...], content_dir: Path) -> None:
    """Mark translations as made from the current source text.

    Run it after bringing a translation up to date with its source article.

    \b
    Example:
      waypost i18n stamp content/articles/ar/keep-receipts.md
    """
    from .translations import stamp

    content = load_content(content_dir)
    for path in files:
        try:
            click.echo(f"{path}: translation_of {stamp(content, path)}")
        except ValueError as exc:
            fail(str(exc))
