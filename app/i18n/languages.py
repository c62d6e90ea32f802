"""Add a language: its line in languages.yaml, its interface catalog and its content folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale
from babel.core import get_global
from babel.messages.plurals import get_plural
from marshmallow import ValidationError

from app import fsutil
from app.content import yamlfile
from app.content.schemas import LANGUAGE_TAG, LanguageSchema, cldr_locale, plural_rule
from app.i18n import catalogs
from app.i18n.locales import locale_of
from app.i18n.runtime import babel_locale


@dataclass(frozen=True)
class Added:
    code: str
    name: str
    dir: str
    catalog: Path
    created_catalog: bool
    configured: bool
    folder: Path
    plural: str | None = None
    fallback: str | None = None


def add_language(content: Path, translations: Path, code: str, name: str | None = None,
                 direction: str | None = None, plural: str | None = None,
                 fallback: str | None = None) -> Added:  # fmt: skip
    """Configure a new language, create its catalog and content folder, completing whatever is missing.

    The endonym, direction and plural rule come from Babel's CLDR data unless
    given. A language CLDR lacks (`prs`) needs its name and direction, and a
    plural rule or a fallback locale (whose dates, numbers and plural rule it
    then uses). Raises ValueError, with a message for the person who typed the
    command, when the code is malformed, has a preferred form, is unknown
    without those, or the language is fully set up already.
    """
    code = checked_code(code)
    try:
        locale: Locale | None = locale_of(code)
    except ValueError:
        locale = None
    if locale is None:
        plural, fallback = _for_unknown(code, name, direction, plural, fallback)
        locale = Locale.parse(babel_locale(code, fallback))
    elif plural or fallback:
        raise ValueError(f"'{code}' is in Babel's CLDR data, which gives its plural rule, dates and numbers: "
                         "leave out --plural and --fallback")  # fmt: skip
    else:
        name = name or _endonym(locale, code)
        direction = direction or ("rtl" if locale.character_order == "right-to-left" else "ltr")
    entry = {"code": code, "name": name, "dir": direction, "plural": plural, "fallback": fallback}
    errors = LanguageSchema().validate({k: v for k, v in entry.items() if v is not None})
    if errors:
        raise ValueError("; ".join(f"{key}: {', '.join(messages)}" for key, messages in errors.items()))
    languages_yaml = Path(content) / "languages.yaml"
    listed = _listed_codes(languages_yaml)
    if listed and listed[0] == code:
        raise ValueError(f"'{code}' is the source language; it needs no translation")
    path = catalogs.catalog_path(translations, str(locale))
    folder = Path(content) / "articles" / code
    if code in listed and path.exists() and folder.is_dir():
        raise ValueError(f"'{code}' is set up already: listed in languages.yaml, catalog {path}, folder {folder}")
    created = not path.exists()
    if created:
        catalogs.init_catalog(translations, locale, plural)
    folder.mkdir(parents=True, exist_ok=True)
    if code not in listed:
        _append(languages_yaml, entry)
    assert name is not None and direction is not None
    return Added(code, name, direction, path, created, code not in listed, folder, plural, fallback)


def checked_code(raw: str) -> str:
    """Return a language code as web addresses and languages.yaml write it, or raise ValueError with the right one.

    Codes are lower case with `-` between parts (`pt-br`); a code that CLDR
    replaces by a shorter or newer one (`deu`, `ger` -> `de`; `iw` -> `he`) is
    refused with that one, as a reader's browser asks for it.
    """
    code = raw.strip()
    if not re.match(LANGUAGE_TAG, code):
        guess = code.lower().replace("_", "-")
        if not re.match(LANGUAGE_TAG, guess):
            raise ValueError(f"'{raw}' is not a language code: write it as in web addresses, such as ps or pt-br")
        raise ValueError(f"'{raw}' is not written as Waypost writes language codes (lower case, '-' between "
                         f"parts): did you mean {_or(_suggestions(guess))}?")  # fmt: skip
    better = _replacement(code)
    if better:
        raise ValueError(f"'{code}' is an old or three-letter code; CLDR and browsers use '{better}': "
                         f"run `waypost i18n add {better}`")  # fmt: skip
    return code


def _replacement(code: str) -> str | None:
    """Return the code CLDR prefers to this one's language subtag, when it names the same language."""
    primary, *rest = code.split("-")
    alias = get_global("language_aliases").get(primary)
    if not alias:
        return None
    preferred = Locale.parse(alias)
    if preferred.territory:
        # `prs` -> `fa_AF`: a language of its own that CLDR approximates by a
        # regional locale; it is added as itself, with that locale as fallback.
        return None
    return "-".join([alias.lower().replace("_", "-"), *rest])


def _suggestions(guess: str) -> list[str]:
    guess = _replacement(guess) or guess
    try:
        locale = locale_of(guess)
    except ValueError:
        return [guess]
    parts = guess.split("-")
    # `de-de` is German as in Germany; most sites want the language alone.
    return [parts[0], guess] if len(parts) > 1 and locale.language == parts[0] else [guess]


def _or(codes: list[str]) -> str:
    return " or ".join(f"'{c}'" for c in codes)


def cldr_fallback(code: str) -> str | None:
    """Return the regional locale CLDR approximates a language it lacks by (`prs` -> `fa-af`), if any."""
    alias = get_global("language_aliases").get(code.split("-")[0])
    return alias.lower().replace("_", "-") if alias and Locale.parse(alias).territory else None


def _for_unknown(code: str, name: str | None, direction: str | None, plural: str | None,
                 fallback: str | None) -> tuple[str, str | None]:  # fmt: skip
    """Return the plural rule and fallback of a language CLDR lacks, refusing what cannot be made up."""
    if name is None or direction is None:
        raise ValueError(f"'{code}' is not a language that Babel's CLDR data knows: to add it anyway, give its "
                         f"own name and direction, e.g. `waypost i18n add {code} --name NAME --dir rtl`")  # fmt: skip
    fallback = fallback or cldr_fallback(code)
    try:
        base = cldr_locale(fallback) if fallback else None
        if plural:
            count, expression = plural_rule(plural)
            plural = f"nplurals={count}; plural={expression};"
    except ValidationError as exc:
        raise ValueError(f"{'; '.join(map(str, exc.messages))}") from None
    if plural is None and base is not None:
        plural = get_plural(base).plural_forms
    if plural is None:
        raise ValueError(f"'{code}' needs a plural rule: give --plural (e.g. \"nplurals=2; plural=(n != 1);\") or "
                         "--fallback LOCALE to use that locale's rule, dates and numbers")  # fmt: skip
    return plural, fallback


def _endonym(locale: Locale, code: str) -> str:
    endonym = locale.get_display_name(locale) or code
    # CLDR writes many endonyms in lower case ("français"); a list of
    # languages starts each with a capital, as languages.yaml does.
    return endonym[:1].upper() + endonym[1:]


def _listed_codes(path: Path) -> list[str]:
    try:
        data, _lines = yamlfile.load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yamlfile.YamlError) as exc:
        raise ValueError(f"{path}: cannot read the languages ({exc}); run `waypost check`") from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ValueError(f"{path}: expected a list of languages; run `waypost check`")
    return [str(x.get("code")) for x in data]


def _append(path: Path, entry: dict[str, str | None]) -> None:
    """Append one language to the end of the file, keeping its text and comments as they are."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    lines = [f"{'- ' if i == 0 else '  '}{key}: {_scalar(key, value)}"
             for i, (key, value) in enumerate((k, v) for k, v in entry.items() if v is not None)]  # fmt: skip
    fsutil.atomic_write(path, (text + "\n".join(lines) + "\n").encode("utf-8"))


def _scalar(key: str, value: str) -> str:
    """Return a value as YAML, quoted only when plain YAML would read it as something else."""
    try:
        plain = yaml.safe_load(f"{key}: {value}") == {key: value}
    except yaml.YAMLError:
        plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)
