"""Parsing attribute values (numbers and dates with unknown parts) into one float."""

from __future__ import annotations

import math
import re

_DATE = re.compile(r"^(-?)([0-9#]{1,4})-([0-9#]{1,2})-([0-9#]{1,2})(?:T.*)?$")
_TYPED = re.compile(r'^"(.*)"(?:\^\^<[^>]*>|\^\^\S+|@[A-Za-z0-9-]+)?$')


def literal_text(value: str) -> str:
    """The lexical form of an N-Triples literal (``"1.5"^^<xsd:double>`` -> ``1.5``); other text unchanged."""
    match = _TYPED.match(value)
    return match.group(1) if match else value


def parse_value(value: str) -> tuple[float, bool]:
    """``(number, partial)`` for an attribute value; ``(nan, False)`` when it is not numeric.

    Numbers parse as floats (``inf``/``nan`` spellings are not numbers). A date
    ``YYYY-MM-DD`` becomes a fractional year ``year + (month - 1) / 12 + (day - 1) / 365``.
    Unknown parts written ``#`` (YAGO15K: ``1987-10-##``, ``19##-##-##``) are left out: unknown
    month or day parts are dropped (``1987-10-##`` -> 1987.75), unknown year digits take the middle
    of their range (``19##`` -> 1950); ``partial`` is then True.
    """
    text = literal_text(value.strip())
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    else:
        if math.isfinite(number):
            return number, False
        return math.nan, False
    match = _DATE.match(text)
    if not match:
        return math.nan, False
    sign, year_s, month_s, day_s = match.groups()
    partial = "#" in text
    known = year_s.rstrip("#")
    if "#" in known or not known:
        return math.nan, partial  # unknown digits before known ones: no usable value
    missing = len(year_s) - len(known)
    year = int(known) * 10**missing + (5 * 10 ** (missing - 1) if missing else 0)
    result = float(year)
    if missing == 0 and "#" not in month_s:
        result += (int(month_s) - 1) / 12
        if "#" not in day_s:
            result += (int(day_s) - 1) / 365
    return (-result if sign else result), partial
