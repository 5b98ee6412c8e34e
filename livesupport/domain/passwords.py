"""Password rules: every character counts, one normalisation, no composition rules."""

from __future__ import annotations

import unicodedata

from livesupport.domain.errors import BadRequestError, TooLargeError

MIN_LENGTH = 8
MAX_LENGTH = 4096


def normalise(password: str) -> str:
    """RFC 8265 OpaqueString: non-ASCII spaces become U+0020, then NFC. Nothing is stripped."""
    mapped = "".join(" " if ch != " " and unicodedata.category(ch) == "Zs" else ch for ch in password)
    return unicodedata.normalize("NFC", mapped)


def check_new(password: object, common: frozenset[str] = frozenset()) -> str:
    """A new password: at least 8 characters, a generous cap, not a well-known one; anything else allowed."""
    if not isinstance(password, str):
        raise BadRequestError("The password must be text.")
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise BadRequestError(f"Use at least {MIN_LENGTH} characters for the password.")
    if len(password) > MAX_LENGTH:
        raise TooLargeError(f"The password is longer than {MAX_LENGTH:,} characters.")
    if password.lower() in common:
        raise BadRequestError("That password is on the list of the most common ones, which attackers try first. "
                              "Choose another; a few unrelated words make a strong one.")
    return password
