"""The API's own description: an OpenAPI 3.1 document made from the code, served at /api/openapi.json and
read as a page at /api/docs.

Every Starlette route under /api must be described, or the test tests/web/test_openapi.py fails; the
document is built by walking the application's route table, so it never describes a route that is not there.

Describing a new route: put `@operation(...)` on its handler, next to the code it describes.

    from livesupport.web.openapi import operation, schemas as s

    @operation(summary="Register a webhook", tag="Webhooks", errors=(403, 409),
               body=s.obj(["url"], url={"type": "string", "format": "uri"}),
               responses={201: s.obj(["id", "url"], id=s.ID, url=s.TEXT)})
    async def add_webhook(request: Request) -> JSONResponse: ...

    routes = [Route("/api/webhooks", add_webhook, methods=["POST"])]  # listed in create_app like the others

- Path parameters come from the route itself (`{hook_id:id}` becomes an integer id 1..MAX_ID named hook_id);
  describe only query parameters (`query=[s.query("since", s.SEQ, "…")]`).
- `auth` is "user" (a bearer token or the browser session: the default), "app" (an application key) or None.
- `errors` lists the statuses of the refusals the handler can answer; each is documented with the error
  codes web/errors.py maps to it. 401 (when `auth` is set), 400 and 413 (when there is a body) and 503 are
  added. A status in `responses` (e.g. 409 with a body of its own) is documented as given there.
- The description defaults to the handler's docstring; `summary` is the one line the page lists.
- A new tag gets a sentence in document.py's TAGS (it is listed without one otherwise).
- tests/web/test_schemathesis.py fuzzes every described route, with real tokens: a route whose effects the
  fuzz must not cause (calling out to the addresses it is sent, say) goes in its NOT_FUZZED, with why.
- A handler that serves several methods gets one `@operation(method="GET", ...)` per method.
- Schemas are JSON Schema dicts (2020-12, as OpenAPI 3.1 takes them); shared ones live in schemas.py.
"""

from livesupport.web.openapi.registry import Operation, operation

__all__ = ["Operation", "operation"]
