"""The few rules of HTTP headers the response cache follows, without a web framework (RFC 9110).

The cache answers before Flask and Werkzeug are loaded (cache.front), so it
reads Accept-Encoding and If-None-Match and writes the Date header itself;
each function names the section of RFC 9110 it follows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

# The representation metadata a 304 leaves out (RFC 9110 15.4.5: it describes a body that is not sent).
NOT_IN_304 = ("Allow", "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Range",
              "Content-Type", "Last-Modified")  # fmt: skip
# A quality value as RFC 9110 12.4.2 spells it: 0 to 1, at most three decimals.
QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z")
ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')
Headers = list[tuple[str, str]]


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """Return the first value of a header (names compared case-insensitively), or None."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def without(headers: Iterable[tuple[str, str]], names: Iterable[str]) -> Headers:
    """Return the headers but those named."""
    dropped = {n.lower() for n in names}
    return [(key, value) for key, value in headers if key.lower() not in dropped]


_negotiated: dict[tuple[str, tuple[str, ...]], str] = {}


def negotiate(accept: str | None, available: tuple[str, ...]) -> str:
    """Return the encoding to send: brotli, then gzip, when the client accepts it, else ''."""
    if not accept:
        return ""
    found = _negotiated.get((accept, available))
    if found is None:
        qualities = codings(accept)
        wildcard = qualities.get("*", 0.0)
        if "gzip" not in qualities and "x-gzip" in qualities:
            qualities["gzip"] = qualities["x-gzip"]  # the same coding (RFC 9110 8.4.1.3)
        found = next((e for e in available if e and qualities.get(e, wildcard) > 0), "")
        if len(_negotiated) > 256:
            _negotiated.clear()  # browsers send a handful of spellings; anything else is not worth keeping
        _negotiated[(accept, available)] = found
    return found


def codings(accept: str) -> dict[str, float]:
    """Return the content codings an Accept-Encoding value names, each with its quality (RFC 9110 12.5.3).

    A quality that is not one (`q=2`, `q=high`) counts as 0: such a coding is
    not sent, and the page goes as it is, which every client reads.
    """
    found: dict[str, float] = {}
    for item in accept.split(","):
        name, *params = item.split(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QVALUE.match(value) else 0.0
        found.setdefault(name, quality)
    return found


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Return whether an If-None-Match value names etag (weak comparison, RFC 9110 13.1.2); `*` names any."""
    if if_none_match.strip() == "*":
        return True
    return etag.strip('"') in ENTITY_TAG.findall(if_none_match)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(second: float) -> str:
    """Return a moment as HTTP writes it (RFC 9110 5.6.7: `Tue, 01 Dec 2026 21:30:37 GMT`), whatever the locale."""
    t = time.gmtime(second)
    return (
        f"{WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
