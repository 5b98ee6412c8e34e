"""The one reading of numbers typed or sent from outside: ids, bounded integers and numeric codes.

`str.isdigit()` and `int()` accept far more than people type: superscripts ("²"), other scripts' digits
("١٢", "１２"), signs, spaces and underscores ("1_0"). Here only ASCII 0-9 count, and every number is
checked against its range before it can reach the database.
"""

from __future__ import annotations

import hmac

from livesupport.domain.errors import BadRequestError
from livesupport.domain.ids import MAX_ID

_ASCII_DIGITS = frozenset("0123456789")


def ascii_digits(text: object, max_len: int = 20) -> bool:
    """True for 1..max_len ASCII digits and nothing else (no sign, space, underscore or other script)."""
    return isinstance(text, str) and 0 < len(text) <= max_len and _ASCII_DIGITS.issuperset(text)


def parse_int(text: object, lo: int, hi: int) -> int | None:
    """The whole number `text` spells in ASCII digits when lo <= it <= hi, else None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if lo <= text <= hi else None
    if not isinstance(text, str) or not ascii_digits(text, max(len(str(hi)), 1)):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def parse_id(text: object) -> int | None:
    """A database id (1 up to the largest the database holds), from a string of ASCII digits or an int."""
    return parse_int(text, 1, MAX_ID)


def require_id(text: object, what: str) -> int:
    """parse_id, refusing anything else with a sentence naming `what` (e.g. "contact")."""
    value = parse_id(text)
    if value is None:
        raise BadRequestError(f"That {what} is not one of ours: an id is a whole number written with 0-9.")
    return value


def parse_code(text: object, length: int) -> str | None:
    """A numeric code of exactly `length` ASCII digits (PIN, one-time code), with spaces people type removed."""
    if not isinstance(text, str):
        return None
    cleaned = text.replace(" ", "").replace("-", "")
    return cleaned if len(cleaned) == length and ascii_digits(cleaned, length) else None


def same_secret(given: object, expected: object) -> bool:
    """Constant-time comparison of two ASCII strings (codes, tokens); anything else is simply unequal.

    `hmac.compare_digest` raises on non-ASCII str, so it only ever sees ASCII bytes here.
    """
    if not (isinstance(given, str) and isinstance(expected, str) and given.isascii() and expected.isascii()):
        return False
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))
