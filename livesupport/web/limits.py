"""Request bodies are bounded while they arrive: a body over its limit is answered 413 before it is buffered."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livesupport.domain.numbers import parse_int
from livesupport.web.errors import error_body

MAX_JSON = 64 * 1024
MAX_FORM = 256 * 1024  # every page form: the longest (the transfer survey, feedback) is a few KiB of text
MULTIPART_OVERHEAD = 1024 * 1024  # boundaries, part headers and the text fields that travel with files
#: What one page form may hold once parsed (files only travel to the attachments API).
#: A field is counted as sent (%-escaped): 10,000 characters of emoji are 120 KB.
FORM_FIELDS, FORM_FIELD_BYTES = 200, 128 * 1024

#: The branded error page from a title and a sentence (web.errors.error_page with the app's templates).
Page = Callable[[str, str], bytes]


@dataclass(frozen=True)
class Limits:
    """The largest body each kind of request may send, in bytes."""

    json: int = MAX_JSON
    form: int = MAX_FORM
    upload: int = 10 * MAX_FORM
    #: Paths that take file uploads (multipart/form-data up to `upload`); elsewhere multipart gets `form`.
    upload_paths: re.Pattern[str] = re.compile(r"^(/api/tickets/[0-9]+/attachments|/tickets/new)$")

    def for_request(self, path: str, content_type: str) -> tuple[int, str]:
        """(limit in bytes, what it is for, in words)."""
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind == "multipart/form-data" and self.upload_paths.match(path):
            return self.upload, "an upload"
        if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return self.form, "a form"
        return self.json, "a request body"


async def read_form(request: Request, max_files: int = 0) -> FormData:
    """A page form, parsed within bounds (fields, their size, files); the body size is BodyLimits' job."""
    return await request.form(max_files=max_files, max_fields=FORM_FIELDS, max_part_size=FORM_FIELD_BYTES)


class BodyTooLarge(Exception):
    """Raised into the application when its request body passes the limit (the 413 is already sent)."""


class BodyLimits:
    """Refuses at once a declared Content-Length over the limit; counts a chunked body's bytes as they arrive."""

    def __init__(self, app: ASGIApp, limits: Limits, page: Page) -> None:
        self.app, self.limits, self.page = app, limits, page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        path = scope.get("path", "")
        limit, what = self.limits.for_request(path, headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length")
        if declared is not None:
            size = parse_int(declared.decode("latin-1"), 0, 10**18)
            if size is None:
                await self._refuse(scope, send, 400, "bad_request", "The Content-Length header is not a number.")
                return
            if size > limit:
                await self._refuse(scope, send, 413, "too_large", _too_large(what, limit))
                return
        state: dict[str, Any] = {"seen": 0, "started": False, "refused": False}

        async def counted() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        await self._refuse(scope, send, 413, "too_large", _too_large(what, limit))
                    raise BodyTooLarge(what)
            return message

        async def watched(message: Message) -> None:
            if state["refused"]:
                return  # the 413 went out; whatever the application still says is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            pass
        except Exception:
            if not state["refused"]:
                raise

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, words: str) -> None:
        if scope.get("path", "").startswith("/api/"):
            body, kind = orjson.dumps(error_body(code, words)), b"application/json"
        else:
            body, kind = self.page("Too large" if status == 413 else "Bad request", words), b"text/html; charset=utf-8"
        # No `Connection: close`: the server discards (never buffers) what the client still sends, so the client
        # reads this answer instead of a reset; an idle connection is closed after uvicorn's keep-alive timeout.
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", kind), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _too_large(what: str, limit: int) -> str:
    size = f"{limit / 1048576:.0f} MiB" if limit >= 1048576 else f"{limit // 1024} KiB"
    return f"That is too large: {what} may be at most {size}."
