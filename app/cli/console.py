"""What every `waypost` command module shares: the default folders and the one-line failure."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from app import settings

DEFAULT_CONTENT = Path(settings.defaults()["CONTENT_DIR"])
DEFAULT_TRANSLATIONS = Path(settings.defaults()["TRANSLATIONS_DIR"])


def count(n: int, singular: str, plural: str | None = None) -> str:
    """Return a number with its noun in the right form: `1 error`, `2 errors`."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def fail(message: str) -> NoReturn:
    """Print one clear line and stop with a non-zero exit."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)
