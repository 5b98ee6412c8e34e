"""The OpenAPI document covers every /api route and only those; the server serves it and its page."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Match, Route

from livesupport import settings as config
from livesupport.web.app import create_app
from livesupport.web.openapi.document import api_routes, document, methods_of, undescribed
from livesupport.web.openapi.registry import DESCRIBED
from tests.utils import Server

ROUTES = create_app(config.load({"SECRET_KEY": "only-the-route-table"})).web.routes


def test_every_api_route_is_described() -> None:
    assert undescribed(ROUTES) == []
    assert api_routes(ROUTES)  # and there are some


def test_a_route_without_a_description_is_caught() -> None:
    async def webhook(request: Any) -> None: ...

    assert undescribed([*ROUTES, Route("/api/hooks/{hook_id:id}", webhook, methods=["GET", "DELETE"])]) == [
        "DELETE /api/hooks/{hook_id:id}", "GET /api/hooks/{hook_id:id}"]


def test_the_document_describes_only_routes_that_exist() -> None:
    doc = document(ROUTES, "1")
    for path, item in doc["paths"].items():
        concrete = re.sub(r"{\w+}", "1", path)
        for method in item:
            scope = {"type": "http", "path": concrete, "method": method.upper()}
            assert any(isinstance(r, Route) and r.matches(scope)[0] is Match.FULL for r in ROUTES), \
                f"{method.upper()} {path} is described but no route answers it"
    # Every described handler is reached by some route (a description left behind by a removed route shows).
    routed = {route.endpoint for _, route in api_routes(ROUTES)}
    assert [h.__qualname__ for h in DESCRIBED if h not in routed and h.__module__.startswith("livesupport")] == []


def test_ids_are_bounded_and_paths_use_openapi_names() -> None:
    doc = document(ROUTES, "1")
    get = doc["paths"]["/api/tickets/{ticket_id}/events"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert params["ticket_id"]["in"] == "path" and params["ticket_id"]["schema"]["minimum"] == 1
    assert params["ticket_id"]["schema"]["maximum"] == 2**31 - 1
    assert params["since"]["in"] == "query" and params["since"]["schema"]["minimum"] == 0
    assert not any(":" in path for path in doc["paths"])
    assert {m.upper() for path, r in api_routes(ROUTES) if path == "/api/tickets/{ticket_id:id}/follow"
            for m in methods_of(r)} == {m.upper() for m in doc["paths"]["/api/tickets/{ticket_id}/follow"]}
    # The error body of a 403 names the codes that map to 403.
    refused = get["responses"]["403"]["content"]["application/json"]["schema"]
    assert refused["properties"]["error"]["properties"]["code"]["enum"] == ["forbidden", "policy"]
    assert get["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
    otp = doc["paths"]["/api/otp/verify"]["post"]
    assert otp["security"] == [{"appKey": []}]
    assert doc["components"]["securitySchemes"]["appKey"]["scheme"] == "bearer"


async def test_the_server_serves_the_document_and_its_page(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/api/openapi.json")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        doc = r.json()
        assert doc["openapi"] == "3.1.0" and "/api/tickets/{ticket_id}" in doc["paths"]
        page = await http.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text  # CSP: no inline script
    for item in doc["paths"].values():
        for op in item.values():
            assert f'id="{op["operationId"]}"' in page.text
