"""marshmallow schemas for the content files: the only definition of their shape."""

from __future__ import annotations

import gettext
import re
from datetime import date

from babel import Locale, UnknownLocaleError
from marshmallow import RAISE, Schema, ValidationError, fields, validate

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
valid_slug = validate.Regexp(SLUG_PATTERN, error="must be lower-case letters, digits and hyphens")
valid_hash = validate.Regexp(r"^[0-9a-f]{16}$", error="must be 16 hexadecimal characters (see `waypost i18n stamp`)")
STATUSES = ("reviewed", "unreviewed", "machine")
valid_status = validate.OneOf(STATUSES, error="must be one of: " + ", ".join(STATUSES))
not_empty = validate.Length(min=1, error="must not be empty")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


LANGUAGE_TAG = r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$"
_PLURAL = re.compile(r"\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?)\s*;?\s*")


def plural_rule(value: str) -> tuple[int, str]:
    """Return (number of forms, C expression) of a gettext plural rule, raising ValidationError if it is not one."""
    match = _PLURAL.fullmatch(value)
    if not match:
        raise ValidationError('must be a gettext plural rule such as "nplurals=2; plural=(n != 1);"')
    count, expression = int(match[1]), match[2]
    try:
        choose = gettext.c2py(expression)
        forms = {choose(n) for n in range(1001)}
    except (ValueError, SyntaxError, TypeError, ZeroDivisionError, RecursionError):
        raise ValidationError(f"'{expression}' is not a gettext plural expression") from None
    if not 1 <= count <= 6 or not forms <= set(range(count)):
        raise ValidationError(f"'{expression}' picks forms {sorted(forms)}, but nplurals={count}")
    return count, expression


def cldr_locale(value: str) -> Locale:
    """Return the Babel locale of a lower-case language tag (`fa-af`), raising ValidationError if CLDR lacks it."""
    try:
        return Locale.parse(value, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValidationError(f"'{value}' is not a locale that Babel's CLDR data knows") from None


def valid_fallback(value: str) -> None:
    """Accept a lower-case tag of a locale CLDR has data for."""
    if not re.match(LANGUAGE_TAG, value):
        raise ValidationError("must be a lower-case language tag such as fa-af")
    cldr_locale(value)


class LanguageSchema(StrictSchema):
    code = fields.String(
        required=True, validate=validate.Regexp(LANGUAGE_TAG, error="must be a lower-case language tag")
    )
    name = fields.String(required=True, validate=not_empty)
    dir = fields.String(required=True, validate=validate.OneOf(("ltr", "rtl")))
    # Only for a language CLDR lacks (`waypost i18n add prs ...`): the plural
    # rule of its catalog, and the CLDR locale whose dates and numbers it uses.
    plural = fields.String(validate=plural_rule)
    fallback = fields.String(validate=valid_fallback)


class TopicSchema(StrictSchema):
    slug = fields.String(required=True, validate=valid_slug)
    name = fields.Dict(keys=fields.String(), values=fields.String(validate=not_empty), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    # Trafficking, violence: never kept on a phone unless the reader saves it.
    sensitive = fields.Boolean(load_default=False)


def valid_checked(value: str) -> None:
    """Accept `unverified` or the ISO date on which a person opened the page."""
    if value == "unverified":
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValidationError("must be 'unverified' or a date YYYY-MM-DD") from None
    if len(value) != 10:
        raise ValidationError("must be 'unverified' or a date YYYY-MM-DD")


class SourceSchema(StrictSchema):
    title = fields.String(required=True, validate=not_empty)
    url = fields.Url(required=True, schemes={"https"}, error_messages={"invalid": "must be an https:// address"})
    # The language of the title (and the page it names). Official sources are
    # mostly in the source language, so that is what an absent `lang` means.
    lang = fields.String(validate=validate.Regexp(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"))
    # `unverified` until a person has opened the page and seen that it supports
    # the article; then the date they did. Optional here, a warning when absent.
    checked = fields.String(validate=valid_checked)


REVIEW_STATUSES = ("reviewed", "changes-needed")


class ReviewSchema(StrictSchema):
    """An expert's review of an article, written only by the person who made it."""

    status = fields.String(
        required=True, validate=validate.OneOf(REVIEW_STATUSES, error="must be one of: " + ", ".join(REVIEW_STATUSES))
    )
    # A role ("NGO legal adviser"), never a volunteer's name.
    by = fields.String(required=True, validate=not_empty)
    date = fields.Date(required=True)


class ArticleSchema(StrictSchema):
    slug = fields.String(required=True, validate=valid_slug)
    topic = fields.String(required=True, validate=valid_slug)
    title = fields.String(required=True, validate=validate.Length(min=1, max=150))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=400))
    updated = fields.Date(required=True)
    review_by = fields.Date(required=True)
    sources = fields.List(
        fields.Nested(SourceSchema),
        required=True,
        validate=validate.Length(min=1, error="needs at least one source"),
    )
    review = fields.Nested(ReviewSchema)
    translation_of = fields.String(validate=valid_hash)
    translation_status = fields.String(validate=valid_status)
    sensitive = fields.Boolean(load_default=False)


class TermSchema(StrictSchema):
    id = fields.String(required=True, validate=valid_slug)
    term = fields.String(required=True, validate=not_empty)
    definition = fields.String(required=True, validate=not_empty)
    # Other words people use for it (hawala, حوالة): search finds the term's articles by them too.
    synonyms = fields.List(fields.String(validate=not_empty), load_default=list)
    translation_of = fields.String(validate=valid_hash)
    translation_status = fields.String(validate=valid_status)


class GlossarySchema(StrictSchema):
    translation_status = fields.String(validate=valid_status)
    terms = fields.List(fields.Nested(TermSchema), required=True)
