"""Structured logs: one logfmt line per record, tagged with the request or connection it belongs to."""

from __future__ import annotations

import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime

#: The id of the HTTP request or WebSocket connection being served ("-" outside of one).
context_id: ContextVar[str] = ContextVar("context_id", default="-")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def _quote(value: str) -> str:
    if value and all(c.isalnum() or c in "-_.:/@" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        parts = [f"ts={at}", f"level={record.levelname.lower()}", f"logger={record.name}",
                 f"id={context_id.get()}", f"msg={_quote(record.getMessage())}"]
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


_SECRET = re.compile(r"((?:token|party)=)[^&\s\"]+")
# Links whose last part is the credential: a party's transfer page, a survey's resume link, sign-in and PIN links.
_PATH_SECRET = re.compile(r"(/(?:p|resume|link|set)/)[A-Za-z0-9._-]{16,}")
# Per-socket chatter, told by its template before anything is formatted: uvicorn's line for each socket accepted
# is an access log of sockets (HTTP's is off), and a reconnect storm wrote it thousands of times a second.
_NOISE = frozenset({"connection open", "connection closed", '%s - "WebSocket %s" [accepted]'})


class Redact(logging.Filter):
    """No secrets in logs: tokens in URLs are masked; per-socket open/close chatter is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg in _NOISE:
            return False
        message = record.getMessage()
        masked = _PATH_SECRET.sub(r"\1***", _SECRET.sub(r"\1***", message))
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(LogfmtFormatter())
    handler.addFilter(Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
