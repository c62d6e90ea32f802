"""What every `waypost` command module shares: the default folders and the one-line failure."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from app import settings

DEFAULT_CONTENT = Path(settings.defaults()["CONTENT_DIR"])
DEFAULT_TRANSLATIONS = Path(settings.defaults()["TRANSLATIONS_DIR"])


def fail(message: str) -> NoReturn:
    """Print one clear line and stop with a non-zero exit."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)
