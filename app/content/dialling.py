"""Whether a phone number can be dialled in a country, and the `tel:` form to dial it.

The `phonenumbers` library (Google's libphonenumber data) decides, never a
regex: short numbers such as 112 or 116 111 are checked against its
short-number data and stay bare digits (`tel:112`); every other number is
written in E.164 (`tel:+4930123456`) so it works from any SIM.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import shortnumberinfo


def tel(number: str, country: str) -> str | None:
    """Return the `tel:` target of a number as dialled in `country`, or None when it cannot be dialled there."""
    text = number.strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and shortnumberinfo.is_valid_short_number_for_region(parsed, country):
        return digits
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def is_known_country(code: str) -> bool:
    """Return whether `code` is an ISO 3166-1 alpha-2 country the phone data knows."""
    return len(code) == 2 and code.isupper() and code in phonenumbers.SUPPORTED_REGIONS
