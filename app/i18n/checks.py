"""Check interface catalogs: they compile, keep their placeholders and have every plural form.

`waypost i18n check` runs this in CI. Babel's reader is lenient and its own
checkers let a translation drop a placeholder, so the rules here are stricter:
what would show a reader a wrong or broken sentence is an error.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel import UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError

from app.content.load import Problem
from app.i18n.catalogs import TEMPLATE, catalogs, extract, is_translated, messages, read_catalog

# flask-babel's ngettext passes the count as `num`; a plural form may leave it out
# ("one article" rather than "1 article"), but not any other placeholder.
COUNT = "num"

_PERCENT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")
_PO_LINE = re.compile(r'^(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"$')
_HEADER_PLURALS = re.compile(r'^"Plural-Forms:', re.MULTILINE)
_BRACE = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def check(translations: Path) -> list[Problem]:
    """Return every problem of the catalogs: errors that break a language, and warnings.

    Errors: a catalog that does not compile, a translation whose placeholders
    differ from its source, missing plural forms. Warnings: plural rules that
    differ from CLDR's, and a template older than the code.
    """
    translations = Path(translations)
    problems = [problem for path in catalogs(translations) for problem in _check_catalog(path)]
    if not (translations / TEMPLATE).exists():
        problems.append(Problem(translations / TEMPLATE, 0, "file not found: run `waypost i18n extract`"))
    elif (translations / "babel.cfg").exists():
        problems += _check_template(translations)
    return problems


def _check_catalog(path: Path) -> list[Problem]:
    try:
        syntax = _syntax_errors(path.read_text(encoding="utf-8"))
        if syntax:
            return [Problem(path, line, f"does not compile: {message}") for line, message in syntax]
        catalog = read_catalog(path, locale=path.parent.parent.name)
        write_mo(io.BytesIO(), catalog, use_fuzzy=False)
    except (PoFileError, ValueError, UnknownLocaleError, OSError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        return [Problem(path, line, f"does not compile: {exc}")]
    problems = []
    # A language CLDR lacks (`fa_AF@prs`) has a plural rule of its own, not its fallback's.
    expected = get_plural(catalog.locale) if catalog.locale is not None and not catalog.locale.modifier else None
    # Babel fills in Plural-Forms from the locale when reading, so look at the file itself.
    if not _HEADER_PLURALS.search(path.read_text(encoding="utf-8").split("\n\n", 1)[0]):
        hint = f": {expected.plural_forms}" if expected else ""
        problems.append(Problem(path, 1, f"no Plural-Forms header; add the language's rule{hint}"))
    elif expected and catalog.num_plurals != expected.num_plurals:
        # Weblate and CLDR sometimes disagree (Persian, for one): worth a look, not an error.
        differ = f"{catalog.num_plurals} plural forms where Babel's CLDR data has {expected.num_plurals}"
        problems.append(Problem(path, 1, f"{differ} ({expected.plural_forms})", warning=True))
    for message in messages(catalog):
        if not message.fuzzy and is_translated(message, partly=True):
            problems += [Problem(path, message.lineno or 0, f"{error} (msgid {message.id!r})")
                         for error in _message_errors(catalog, message)]  # fmt: skip
    return problems


def _message_errors(catalog: Catalog, message: Message) -> list[str]:
    """Return what is wrong with one translated message."""
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    if not message.pluralizable:
        if len(strings) != 1:
            return ["plural forms for a message that has none"]
        return _placeholder_errors(ids[0], strings[0] or "", exact=True)
    errors = []
    if len(strings) != catalog.num_plurals:
        errors.append(f"{len(strings)} plural forms, but the catalog's Plural-Forms needs {catalog.num_plurals}")
    empty = [str(i) for i, s in enumerate(strings) if not s]
    if empty:
        errors.append(f"plural form msgstr[{', '.join(empty)}] is missing")
    source = " ".join(ids)  # a form may use the placeholders of either source text
    used: set[str] = set()
    for i, string in enumerate(strings):
        if string:
            errors += [f"msgstr[{i}]: {e}" for e in _placeholder_errors(source, string, exact=False)]
            used |= placeholders(string)
    lost = placeholders(source) - used
    if lost:
        errors.append(f"placeholder {_show(lost)} in no plural form")
    return errors


def _placeholder_errors(source: str, translation: str, exact: bool) -> list[str]:
    """Compare placeholders; with exact=False the plural count may be left out."""
    errors = []
    want, got = placeholders(source), placeholders(translation)
    missing = want - got if exact else {n for n in want - got if not _is_count(n)}
    if missing:
        errors.append(f"placeholder {_show(missing)} missing")
    if got - want:
        errors.append(f"placeholder {_show(got - want)} not in the source")
    # The pages fill in every string with `%`, so a stray `%` (write `%%`)
    # breaks at run time even where the placeholders look right.
    if "%" in source and not errors:
        values = {m["name"]: 1 for m in _PERCENT.finditer(source) if m["name"]}
        try:
            translation % values
        except (KeyError, ValueError, TypeError) as exc:
            errors.append(f"breaks the formatting ({exc}); write a literal % as %%")
    return errors


def _syntax_errors(text: str) -> list[tuple[int, str]]:
    """Return (line, message) for each line that is not a comment, a keyword or a quoted string.

    Babel's reader quietly accepts a string with a missing or stray quote,
    dropping a character; msgfmt, Poedit and Weblate refuse the file.
    """
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _PO_LINE.match(stripped):
            message = 'not a keyword and a "quoted string" (write \\" for a quote inside)'
            errors.append((number, f"{message}: {stripped[:50]}"))
    return errors


def placeholders(text: str) -> set[str]:
    """Return the placeholders of a string as written: `%(date)s`, `{name}`."""
    percent = {m[0] for m in _PERCENT.finditer(text) if m["type"] != "%"}
    return percent | {m[0] for m in _BRACE.finditer(text)}


def _is_count(placeholder: str) -> bool:
    return placeholder.startswith((f"%({COUNT})", "{" + COUNT))


def _show(names: set[str]) -> str:
    return ", ".join(sorted(names)) + (" is" if len(names) == 1 else " are")


def _check_template(translations: Path) -> list[Problem]:
    pot = translations / TEMPLATE
    try:
        known = {(m.id, m.context) for m in messages(read_catalog(pot))}
    except PoFileError as exc:
        return [Problem(pot, getattr(exc, "lineno", 0) or 0, f"not a valid template: {exc}")]
    new = [m for m in messages(extract(translations)) if (m.id, m.context) not in known]
    if not new:
        return []
    first = new[0].id if isinstance(new[0].id, str) else new[0].id[0]
    return [Problem(pot, 1, f"{len(new)} strings in the code are not in the template yet (first: {first!r}); "
                            "run `waypost i18n extract` and `waypost i18n update`", True)]  # fmt: skip
