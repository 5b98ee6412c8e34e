"""Every error answer (404, 405, 413, 500) carries the security headers; pages get the branded page, never bare text."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.utils import Server, run_server

SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy",
            "permissions-policy")


def secured(r: httpx.Response) -> bool:
    return all(h in r.headers for h in SECURITY)


@pytest.fixture
async def broken_server() -> AsyncIterator[Server]:
    """A server whose database was never migrated: every query fails, as a real fault would (no mock)."""
    data = Path(tempfile.mkdtemp(prefix="livesupport-broken-"))
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{data / 'empty.db'}", "DATA_DIR": str(data),
           "SECRET_KEY": "test-secret-key", "REDIS_URL": "", "WORKER": "separate"}
    async with run_server(env) as srv:
        yield srv


async def test_a_server_fault_is_a_branded_page_with_the_security_headers(broken_server: Server) -> None:
    async with httpx.AsyncClient(base_url=broken_server.url) as http:
        api = await http.post("/api/tokens", json={"email": "a@b.test", "password": "x" * 12})
        page = await http.get("/transfer/resume/not-a-real-token")
    assert api.status_code == 500 and secured(api)
    assert api.json()["error"]["code"] == "unavailable" and "req-" in api.json()["error"]["message"]
    assert page.status_code == 500 and secured(page), page.text[:300]
    assert "text/html" in page.headers["content-type"] and "Something went wrong" in page.text
    assert 'class="brand"' in page.text and "Traceback" not in page.text
    assert page.headers["x-request-id"] in page.text


@pytest.mark.parametrize("path", ["/no/such/page", "/tickets/99999999999", "/static/nothing.css", "/tickets/²"])
async def test_an_unknown_url_gets_the_branded_404_page(server: Server, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get(path)
    assert r.status_code == 404 and secured(r)
    assert "text/html" in r.headers["content-type"] and 'class="brand"' in r.text and "Not found" in r.text


async def test_an_unknown_api_url_and_a_wrong_method_answer_the_json_error_shape(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        missing = await http.get("/api/no-such-thing")
        wrong = await http.put("/api/tokens")
        page = await http.put("/login")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found" and secured(missing)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "bad_request" and secured(wrong)
    assert page.status_code == 405 and 'class="brand"' in page.text and secured(page)


