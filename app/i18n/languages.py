"""Add a language: its line in languages.yaml and its interface catalog."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.content import yamlfile
from app.content.schemas import LanguageSchema
from app.i18n import catalogs


@dataclass(frozen=True)
class Added:
    code: str
    name: str
    dir: str
    catalog: Path
    created_catalog: bool
    configured: bool


def add_language(content: Path, translations: Path, code: str, name: str | None = None,
                 direction: str | None = None) -> Added:  # fmt: skip
    """Configure a new language and create its catalog, completing whatever is missing.

    The endonym and direction come from Babel's CLDR data unless given. Raises
    ValueError, with a message for the person who typed the command, when the
    code is unknown or the language is fully set up already.
    """
    code = code.strip().lower().replace("_", "-")
    locale = catalogs.locale_of(code)
    if name is None:
        endonym = locale.get_display_name(locale) or code
        # CLDR writes many endonyms in lower case ("français"); a list of
        # languages starts each with a capital, as languages.yaml does.
        name = endonym[:1].upper() + endonym[1:]
    direction = direction or ("rtl" if locale.character_order == "right-to-left" else "ltr")
    errors = LanguageSchema().validate({"code": code, "name": name, "dir": direction})
    if errors:
        raise ValueError("; ".join(f"{key}: {', '.join(messages)}" for key, messages in errors.items()))
    listed = _listed_codes(Path(content) / "languages.yaml")
    if listed and listed[0] == code:
        raise ValueError(f"'{code}' is the source language; it needs no translation")
    path = catalogs.catalog_path(translations, str(locale))
    if code in listed and path.exists():
        raise ValueError(f"'{code}' is set up already: listed in languages.yaml, catalog {path}")
    created = not path.exists()
    if created:
        catalogs.init_catalog(translations, locale)
    if code not in listed:
        _append(Path(content) / "languages.yaml", code, name, direction)
    return Added(code, name, direction, path, created, code not in listed)


def _listed_codes(path: Path) -> list[str]:
    try:
        data, _lines = yamlfile.load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yamlfile.YamlError) as exc:
        raise ValueError(f"{path}: cannot read the languages ({exc}); run `waypost check`") from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ValueError(f"{path}: expected a list of languages; run `waypost check`")
    return [str(x.get("code")) for x in data]


def _append(path: Path, code: str, name: str, direction: str) -> None:
    """Append one language to the end of the file, keeping its text and comments as they are."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    # Quote the name only when plain YAML would read it as something else.
    try:
        plain = yaml.safe_load(f"name: {name}") == {"name": name}
    except yaml.YAMLError:
        plain = False
    shown = name if plain else json.dumps(name, ensure_ascii=False)
    text += f"- code: {code}\n  name: {shown}\n  dir: {direction}\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
