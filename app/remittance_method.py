"""The World Bank's remittance-cost method, once, for the builder, the pages and the calculator.

Remittance Prices Worldwide (RPW) models a transfer like this: the sender
pays a fee on top of the amount sent, and the provider converts the amount
sent at the rate it offers (units of the receiving currency per unit of the
sending currency). Then

    FX margin %    = (interbank rate - rate offered) / interbank rate * 100
    total cost %   = fee / amount sent * 100 + FX margin %
    amount received = amount sent * rate offered

All arithmetic is `decimal.Decimal`, exact until the end. Rounding is done
once, on the figure shown: ROUND_HALF_UP to two decimal places (cents, and
hundredths of a percentage point). `static/remittance.js` does the same with
exact integer fractions, and a test holds the two to the cent.

This module is shared: the content loader checks published rows with it,
the builder ranks providers with it, and the web pages and the JSON API run
the reader's calculator with it. It imports nothing from Waypost's rooms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# SDG 10.c: a global average under 3 % by 2030, and no corridor above 5 %.
SDG_TARGET = Decimal(3)
CORRIDOR_CEILING = Decimal(5)
# The age ladder, in whole months since the end of the survey quarter.
FRESH_MONTHS = 3  # under this: shown normally
AGING_MONTHS = 9  # up to and including this: "may have changed", amounts hidden; beyond: trend only
# SmaRT (the World Bank's Smart Remitter Target): the average of the three
# cheapest services for the USD 200 amount that are transparent, deliver
# within five days and are accessible.
SMART_COUNT = 3
# RPW's "speed actual" answers that mean five days or less.
WITHIN_FIVE_DAYS = ("less than one hour", "same day", "next day", "2 days", "3-5 days", "3 to 5 days")


def rounded(value: Decimal) -> Decimal:
    """Round a figure for showing: two decimal places, halves away from zero."""
    # Adding zero turns -0.00 into 0.00, as the JavaScript shows it.
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + 0


def number(text: Any) -> Decimal | None:
    """Return a finite Decimal from a cell ("1,234.5" is refused: RPW files use a plain point), or None."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float | Decimal):
        text = str(text)
    text = str(text).strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# Digits and separators a reader may type on an Arabic or Persian keyboard.
_READER_DIGITS = str.maketrans(
    {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)},
     0x066B: ".", 0x066C: "", 0x00A0: "", 0x202F: "", 0x0020: "", 0x2009: ""}
)  # fmt: skip


def reader_number(text: str) -> Decimal | None:
    """Return the number a reader typed ("1 234,5", "۱۲۳٫۵", "200"), or None.

    A comma is the decimal separator when there is no point; otherwise it
    separates thousands. `static/remittance.js` reads numbers by the same rule.
    """
    text = str(text).translate(_READER_DIGITS)
    text = text.replace(",", "") if "." in text else text.replace(",", ".")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", text):
        return None
    return Decimal(text)


def fx_margin(interbank: Decimal, offered: Decimal) -> Decimal:
    """Return the FX margin in percent: what the offered rate falls short of the interbank rate."""
    return (interbank - offered) / interbank * HUNDRED


def total_cost(amount: Decimal, fee: Decimal, margin: Decimal) -> Decimal:
    """Return RPW's total cost in percent: the fee's share of the amount sent plus the FX margin."""
    return fee / amount * HUNDRED + margin


@dataclass(frozen=True)
class Quote:
    """What a transfer costs, worked out for a reader; every figure is exact until shown."""

    paid: Decimal  # what the sender hands over, fee included
    sent: Decimal  # what is converted
    fee: Decimal
    received: Decimal  # in the receiving currency
    cost: Decimal | None  # total cost in percent of the amount typed; None without the interbank rate
    fee_share: Decimal
    margin: Decimal | None

    def shown(self) -> dict[str, str | None]:
        """Return the figures rounded once, as strings (the API's and the JavaScript's form)."""
        return {
            "paid": str(rounded(self.paid)),
            "sent": str(rounded(self.sent)),
            "fee": str(rounded(self.fee)),
            "received": str(rounded(self.received)),
            "cost": None if self.cost is None else str(rounded(self.cost)),
            "fee_share": str(rounded(self.fee_share)),
            "margin": None if self.margin is None else str(rounded(self.margin)),
        }


def quote(
    amount: Decimal, fee: Decimal, rate: Decimal, interbank: Decimal | None = None, *, fee_on_top: bool = True
) -> Quote:
    """Work out a transfer the reader describes.

    With the fee on top (RPW's model) the sender pays amount + fee and the
    whole amount is converted. With the fee taken from the amount, the sender
    pays the amount and amount - fee is converted. Either way the cost is
    what is lost against the interbank rate, in percent of the amount the
    reader typed: for the fee on top that is exactly RPW's fee share + FX margin.
    """
    if amount <= 0 or fee < 0 or rate <= 0 or (interbank is not None and interbank <= 0):
        raise ValueError("amount and rates must be above zero, and the fee zero or more")
    if not fee_on_top and fee >= amount:
        raise ValueError("the fee takes the whole amount")
    paid, sent = (amount + fee, amount) if fee_on_top else (amount, amount - fee)
    received = sent * rate
    if interbank is None:
        return Quote(paid, sent, fee, received, None, fee / amount * HUNDRED, None)
    # One division, so the figure is exact wherever it can be, and rounded once.
    lost = paid * interbank - received
    cost = lost * HUNDRED / (amount * interbank)
    return Quote(paid, sent, fee, received, cost, fee / amount * HUNDRED, fx_margin(interbank, rate))


def arrives_for(handed_over: Decimal, fee: Decimal, rate: Decimal) -> Decimal:
    """Return what arrives when the sender hands over a sum, fee included: what providers are ranked by.

    Ranking on this puts a "zero fee" with a poor rate below a small fee with
    a fair one whenever the poor rate loses more than the fee costs.
    """
    return max(handed_over - fee, Decimal(0)) * rate


def is_fast(speed: str) -> bool:
    """Say whether an RPW "speed actual" answer is five days or less."""
    return speed.strip().lower() in WITHIN_FIVE_DAYS


def smart(services: list[dict[str, Any]]) -> Decimal | None:
    """Return a corridor's SmaRT value from its services, or None when fewer than three qualify.

    A service counts when it is transparent, fast (five days or less),
    accessible and has a USD 200 total cost. The World Bank judges
    accessibility from the access point and the payment instrument; a
    service whose file says `accessible: no` is left out.
    """
    costs = sorted(
        s["cc1_total"]
        for s in services
        if s.get("transparent") and s.get("accessible", True) and is_fast(s.get("speed", ""))
        if s.get("cc1_total") is not None
    )
    if len(costs) < SMART_COUNT:
        return None
    return sum(costs[:SMART_COUNT], Decimal(0)) / SMART_COUNT


def average(values: list[Decimal]) -> Decimal | None:
    """Return the simple average RPW reports for a corridor (every service counts once), or None."""
    return sum(values, Decimal(0)) / len(values) if values else None


def quarter_end(year: int, quarter: int) -> date:
    """Return the last day of a calendar quarter."""
    first_of_next = date(year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return first_of_next - timedelta(days=1)


def months_old(year: int, quarter: int, today: date) -> int:
    """Return the whole months from the end of a survey quarter to today (never below zero)."""
    # Counted from the first day after the quarter: 2025 Q1 is 20 months old on 1 December 2026.
    after = quarter_end(year, quarter) + timedelta(days=1)
    return max((today.year - after.year) * 12 + today.month - after.month, 0)


def age_band(months: int) -> str:
    """Return where an age falls on the ladder: "fresh", "aging" or "old"."""
    if months < FRESH_MONTHS:
        return "fresh"
    if months <= AGING_MONTHS:
        return "aging"
    return "old"
