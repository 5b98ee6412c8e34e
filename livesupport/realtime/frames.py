"""Wire frames: decoding client frames and encoding server frames (orjson, one encode per fan-out)."""

from __future__ import annotations

from typing import Any

import orjson

from livesupport.domain.errors import BadRequestError, ForbiddenError
from livesupport.domain.numbers import parse_id


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def decode(text: str | bytes, what: str = "frame") -> dict[str, Any]:
    """A JSON object, or a refusal that names what was wrong with `what` (a frame, a request body)."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequestError(f"That {what} is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise BadRequestError(f"A {what} must be a JSON object.")
    return frame


def ticket_id_of(topic: object) -> int:
    """`ticket:<id>` -> id. Anything else that is not a known topic is refused as forbidden."""
    if not isinstance(topic, str):
        raise BadRequestError("topic must be a string such as 'ticket:42'.")
    kind, _, ident = topic.partition(":")
    ticket_id = parse_id(ident)
    if kind != "ticket" or ticket_id is None:
        raise ForbiddenError("You cannot open that topic.")
    return ticket_id


def reply_ok(ref: object, **extra: Any) -> str:
    return encode({"type": "reply", "ref": ref, "ok": True, **extra})


def refusal(ref: object, code: str, message: str) -> str:
    """A refused frame: a `reply` when it had a ref, otherwise an `error`."""
    error = {"code": code, "message": message}
    if ref is None:
        return encode({"type": "error", "error": error})
    return encode({"type": "reply", "ref": ref, "ok": False, "error": error})
