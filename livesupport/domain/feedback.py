"""Feedback: what a person may send through "Give us feedback"."""

from __future__ import annotations

from livesupport.domain.errors import BadRequestError, TooLargeError
from livesupport.domain.paths import safe_path

MAX_FEEDBACK = 5000


def check_feedback(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise BadRequestError("Write a few words: what worked, what did not, what you expected.")
    if len(body) > MAX_FEEDBACK:
        raise TooLargeError(f"That is {len(body):,} characters; please keep it under {MAX_FEEDBACK:,}.")
    return body


def clean_page(page: object) -> str:
    """The page the feedback is about: a local path only, never a URL to elsewhere."""
    return safe_path(page, "/")[:500]
