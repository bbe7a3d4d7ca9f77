"""Whole numbers as they arrive from outside: ASCII digits only, within the 64-bit range the
databases store (a larger number cannot name anything there and must not reach a query)."""

from __future__ import annotations

import re

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

_WHOLE = re.compile(r"-?[0-9]{1,19}")


def parse_whole_number(text: str, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int | None:
    """The number `text` spells in ASCII digits (an optional leading minus), or None when it is not
    one or lies outside [minimum, maximum]. str.isdigit() is not enough before int(): it accepts
    '²' and '①', which int() refuses, and any length, which a BIGINT column refuses."""
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None
