"""Ids and sequence numbers from outside: whole numbers that fit the database's 32-bit integer columns."""

from __future__ import annotations

MAX_ID = 2**31 - 1


def is_id(value: object) -> bool:
    """A whole number (not a bool) from 0 up to the largest id the database holds."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID
