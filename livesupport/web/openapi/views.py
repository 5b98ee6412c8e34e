"""GET /api/openapi.json (the document) and GET /api/docs (the same document as a page)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.web.errors import JSONResponse
from livesupport.web.openapi import schemas as s
from livesupport.web.openapi.document import SECURITY_SCHEMES, document
from livesupport.web.openapi.reading import operations_by_tag, words
from livesupport.web.openapi.registry import operation
from livesupport.web.pages import render
from livesupport.web.security import person_from_session

VERSION = "1"


def the_document(request: Request) -> dict[str, Any]:
    """Made once per application, from its own routes."""
    app = request.app
    cached: dict[str, Any] | None = getattr(app.state, "openapi", None)
    if cached is None:
        cached = app.state.openapi = document(app.routes, VERSION)
    return cached


@operation(summary="This API's OpenAPI document", tag="Reference", auth=None,
           description="OpenAPI 3.1, made from the server's own routes. Feed it to a client generator.",
           responses={200: s.obj(["openapi", "info", "paths"], openapi=s.TEXT, info=s.obj(), paths=s.obj(),
                                 components=s.obj())})
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(the_document(request), headers={"Cache-Control": "no-cache"})


@operation(summary="This API's reference page", tag="Reference", auth=None, response_type="text/html",
           description="The OpenAPI document as a page to read.", responses={200: s.TEXT})
async def docs_page(request: Request) -> Response:
    doc = the_document(request)
    person = await person_from_session(request)
    return render(request, "api_docs.html", person, title="API reference", doc=doc,
                  tags=operations_by_tag(doc), intro=words(doc["info"]["description"]),
                  schemes={name: {**scheme, "description": words(scheme["description"])}
                           for name, scheme in SECURITY_SCHEMES.items()},
                  base_url=str(request.base_url).rstrip("/"))


routes = [
    Route("/api/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/docs", docs_page, methods=["GET"]),
]
