"""The OpenAPI 3.1 document, made by walking the application's routes and reading their `@operation`s."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from livesupport.web.openapi import schemas as s
from livesupport.web.openapi.registry import Operation, described

PREFIX = "/api/"
PARAM = re.compile(r"{(\w+)(?::(\w+))?}")

TAGS = {
    "Tokens": "Bearer tokens for the API and the /ws socket.",
    "Tickets": "Open, list and read tickets, their events, attachments and followers.",
    "Staff": "For support staff.",
    "Billing": "Organisations' invoices, payments and services, in cents.",
    "Phone": "Phone support: PINs, caller verification, the console's actions and audit log.",
    "Transfers": "Transfers of service between providers.",
    "Applications": "For other applications, authenticated by an application key.",
    "Webhooks": "Calls the desk makes to other applications when something happens.",
    "Reference": "This description of the API.",
}

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "A token from POST /api/tokens, sent as `Authorization: Bearer <token>`. It works on every "
                       "/api route for a person, and on the /ws socket as `?token=<token>`.",
    },
    "sessionCookie": {
        "type": "apiKey", "in": "cookie", "name": "livesupport_session",
        "description": "The browser's signed-in session (the pages' own calls). A POST or DELETE made with it must "
                       "also send the page's CSRF token as the `X-CSRF-Token` header.",
    },
    "appKey": {
        "type": "http", "scheme": "bearer", "bearerFormat": "lsk_…",
        "description": "An application key (it starts with `lsk_`), made by an administrator on the application "
                       "keys page, sent as `Authorization: Bearer lsk_…`. Only for the routes that say so.",
    },
}
SECURITY: dict[str | None, list[dict[str, list[str]]]] = {"user": [{"bearerAuth": []}, {"sessionCookie": []}], "app": [{"appKey": []}], None: []}


def api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """(full path, route) of every HTTP route under /api, Mounts included."""
    for route in routes:
        if isinstance(route, Mount):
            yield from api_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and (prefix + route.path).startswith(PREFIX):
            yield prefix + route.path, route


def methods_of(route: Route) -> list[str]:
    return sorted((route.methods or {"GET"}) - {"HEAD"})


def undescribed(routes: Iterable[BaseRoute]) -> list[str]:
    """`METHOD /path` of each /api route no `@operation` describes."""
    return [f"{method} {path}" for path, route in api_routes(routes) for method in methods_of(route)
            if described(route.endpoint, method) is None]


def openapi_path(path: str) -> str:
    """`/api/tickets/{ticket_id:id}` -> `/api/tickets/{ticket_id}`."""
    return PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for name, convertor in PARAM.findall(path):
        if convertor == "id":
            schema, words = s.ID, "An id: a whole number written with 0-9."
        else:
            schema, words = s.TEXT, ""
        out.append({"name": name, "in": "path", "required": True, "schema": schema, "description": words})
    return out


def _content(kind: str, schema: s.Schema) -> dict[str, Any]:
    return {kind: {"schema": schema if kind.endswith("json") or kind.startswith("multipart") else s.TEXT}}


def _error(status: int) -> dict[str, Any]:
    out: dict[str, Any] = {"description": s.ERROR_WORDS.get(status, "Refused."),
                           "content": {"application/json": {"schema": s.error(status)}}}
    if status in (429, 503):
        out["headers"] = {"Retry-After": {"schema": s.INT, "description": "Seconds to wait before trying again."}}
    return out


def responses(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, schema in sorted(op.responses.items()):
        words = {200: "OK", 201: "Created", 204: "Done; no body.", 409: "Refused, and why."}.get(status, "Answer")
        out[str(status)] = {"description": words} if schema is None else {
            "description": words, "content": _content(op.response_type, schema)}
    errors = set(op.errors) | {503}
    if op.auth:
        errors.add(401)
    if op.body is not None:
        errors |= {400, 413}
    for status in sorted(errors - set(op.responses)):
        out[str(status)] = _error(status)
    return out


def operation_object(path: str, method: str, op: Operation, operation_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": operation_id, "summary": op.summary, "tags": [op.tag],
        "parameters": path_parameters(path) + list(op.query),
        "responses": responses(op), "security": SECURITY[op.auth],
    }
    if op.description:
        out["description"] = " ".join(op.description.split())
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": {op.body_type: {"schema": op.body}}}
    return out


def document(routes: Iterable[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described /api route (see `undescribed` for the others)."""
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for path, route in api_routes(routes):
        methods = methods_of(route)
        for method in methods:
            op = described(route.endpoint, method)
            if op is None:
                continue
            name = getattr(route.endpoint, "__name__", "operation")
            operation_id = name if len(methods) == 1 else f"{name}_{method.lower()}"
            while operation_id in used:
                operation_id += "_"
            used.add(operation_id)
            paths.setdefault(openapi_path(path), {})[method.lower()] = operation_object(path, method, op,
                                                                                         operation_id)
    seen = {op["tags"][0] for item in paths.values() for op in item.values()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "livesupport API", "version": version,
            "description": "The HTTP side of livesupport: tokens, tickets, billing, phone support, transfers and webhooks. "
                           "Live updates travel over the /ws socket (see the protocol guide). Every refusal is "
                           "`{\"error\": {\"code\", \"message\"}}` with the status its code maps to.",
        },
        "tags": [{"name": name, "description": words} for name, words in TAGS.items() if name in seen]
        + [{"name": name} for name in sorted(seen - set(TAGS))],
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }
