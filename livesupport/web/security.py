"""Who is asking (session cookie or bearer token), CSRF, Origin checks and the security headers."""

from __future__ import annotations

import json
import secrets
from base64 import b64decode
from typing import Any

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livesupport.domain.errors import ForbiddenError, UnauthorizedError
from livesupport.domain.numbers import same_secret
from livesupport.domain.paths import safe_path
from livesupport.domain.people import Person
from livesupport.web.services import services

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def security_headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every HTTP response carries (HSTS only behind HTTPS)."""
    return [*HEADERS, HSTS] if hsts else list(HEADERS)


class SecurityHeaders:
    """Adds the security headers to every HTTP response (it sits outermost, so error answers get them too)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app, self.headers = app, security_headers(hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, with_headers(send, self.headers))


def with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    """`send`, adding `headers` to the response's start."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *headers]
        await send(message)

    return wrapped


SESSION_COOKIE = "livesupport_session"
SESSION_MAX_AGE = 14 * 24 * 3600


def read_session(cookies: dict[str, str], secret: str) -> dict[str, Any]:
    """The session as Starlette's SessionMiddleware writes it (signed base64 JSON), for the raw /ws path."""
    raw = cookies.get(SESSION_COOKIE)
    if not raw:
        return {}
    try:
        data = TimestampSigner(str(secret)).unsign(raw.encode(), max_age=SESSION_MAX_AGE)
        session = json.loads(b64decode(data))
    except (BadSignature, ValueError):
        return {}
    return session if isinstance(session, dict) else {}


def bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_token(conn: HTTPConnection) -> str | None:
    """The browser session's token: a revocable server-side credential inside the signed cookie."""
    sid = conn.session.get("sid")
    return sid if isinstance(sid, str) else None


async def person_from_session(conn: HTTPConnection) -> Person | None:
    sid = session_token(conn)
    return await services(conn).accounts.person_by_token(sid) if sid else None


async def api_person(request: Request) -> Person:
    """A bearer token, or the browser session with a CSRF header on unsafe methods."""
    svc = services(request)
    token = bearer(request)
    if token is not None:
        person = await svc.accounts.person_by_token(token)
        if person is None:
            raise UnauthorizedError("That token is not valid or has expired; get a new one from POST /api/tokens.")
        return person
    person = await person_from_session(request)
    if person is None:
        raise UnauthorizedError("Log in, or send Authorization: Bearer <token>.")
    if request.method in UNSAFE and not csrf_ok(request, request.headers.get("x-csrf-token")):
        raise ForbiddenError("Missing or wrong X-CSRF-Token header for a cookie-authenticated request.")
    return person


def client_address(conn: HTTPConnection) -> str:
    """The caller's address, for throttles and logs ("?" when the server cannot tell)."""
    return conn.client.host if conn.client else "?"


def csrf_token(conn: HTTPConnection) -> str:
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = conn.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(conn: HTTPConnection, given: Any) -> bool:
    expected = conn.session.get("csrf")
    return same_secret(given, expected)


def own_origin(conn: HTTPConnection) -> str:
    scheme = {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)
    return f"{scheme}://{conn.headers.get('host', '')}".lower()


def origin_allowed(conn: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    origin = conn.headers.get("origin")
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    return origin in allowed if allowed else origin == own_origin(conn)


def safe_next(target: object) -> str:
    """Only local paths: never redirect a login to another site. Empty when none was given (or it was not safe):
    the person then lands on their own work (`landing_path`)."""
    return safe_path(target, "")
