"""The categories of local services readers understand, in the order a place page lists them.

Authoring maps HSDS taxonomy terms (or an explicit `category` column) to
these ids; the web layer names each id in the reader's language through
gettext. The ids are the one definition both sides share.
"""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "legal-aid",
    "health",
    "mental-health",
    "shelter",
    "food",
    "money",
    "work",
    "language-classes",
    "children",
    "womens-safety",
    "documents",
    "charging-internet",
    "other",
)
