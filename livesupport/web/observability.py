"""Liveness, readiness, metrics, and request ids for the logs."""

from __future__ import annotations

import ipaddress
import logging
import re

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livesupport.domain.numbers import same_secret
from livesupport.logs import context_id, new_id
from livesupport.metrics import REGISTRY
from livesupport.web.errors import JSONResponse, error_body
from livesupport.web.limits import Page
from livesupport.web.security import bearer, client_address, with_headers
from livesupport.web.services import services

log = logging.getLogger("livesupport.web")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIds:
    """Tags every log line of a request with an id (the caller's X-Request-ID when it is sane) and echoes it."""

    def __init__(self, app: ASGIApp, page: Page) -> None:
        self.app, self.page = app, page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.match(given) else new_id("req")
        token = context_id.set(rid)
        started = False
        tagged = with_headers(send, [(b"x-request-id", rid.encode())])

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await tagged(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            # Logged with the request id; the person gets that id and a plain sentence, never a trace.
            log.exception("request failed: %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _server_error(scope, rid, tagged, self.page)
        finally:
            context_id.reset(token)


async def _server_error(scope: Scope, rid: str, send: Send, page: Page) -> None:
    words = f"Something went wrong on our side; please try again. If it keeps happening, quote {rid}."
    if scope.get("path", "").startswith("/api/"):
        body, kind = orjson.dumps(error_body("unavailable", words)), b"application/json"
    else:
        body, kind = page("Something went wrong", words), b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers. `degraded` while cross-process delivery is down."""
    hub = services(request).hub.health()
    return JSONResponse({**hub, "status": "ok" if hub["broker_ok"] else "degraded"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers (the broker may be degraded), 503 when it does not."""
    svc = services(request)
    body: dict[str, object] = {**svc.hub.health(), "database_ok": True}
    try:
        async with svc.db.read() as s:
            await s.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        body.update(database_ok=False, database=type(exc).__name__)
    body["status"] = "ok" if body["broker_ok"] and body["database_ok"] else "degraded"
    return JSONResponse(body, status_code=200 if body["database_ok"] else 503)


async def metrics(request: Request) -> Response:
    """Prometheus' scrape; limited to METRICS_TOKEN's bearer and METRICS_ALLOW's addresses when they are set."""
    settings = services(request).settings
    if settings.metrics_allow and not address_in(client_address(request), settings.metrics_allow):
        return JSONResponse(error_body("forbidden", "Metrics are not served to this address."), status_code=403)
    if settings.metrics_token and not same_secret(bearer(request), settings.metrics_token):
        return JSONResponse(error_body("unauthorized", "Send the metrics token as Authorization: Bearer <token>."),
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def address_in(address: str, networks: tuple[str, ...]) -> bool:
    """Whether `address` (the caller's) lies in one of `networks` (addresses or CIDRs)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in networks)


routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
