"""Guarantees of the HTTP side through a real server: the session cookie's flags (Secure only with
SESSION_HTTPS_ONLY), the generated secret key's file mode, the sandbox on attachment downloads, request ids."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import httpx
import pytest

from tests.conftest import Deployment, LiveServer, token_for
from tests.realtime.helpers import open_ticket
from tests.utils import Server, csrf_of, run_server
from tests.web.guarantee_helpers import new_account

SESSION = "livesupport_session"


def session_cookie(r: httpx.Response) -> dict[str, str]:
    """The attributes of the session cookie this response sets (lower-cased names; flags map to "")."""
    for header in r.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == SESSION:
            parts = [p.strip() for p in rest.split(";")][1:]
            return {k.lower(): v for k, _, v in (p.partition("=") for p in parts)}
    raise AssertionError(f"no {SESSION} cookie set: {r.headers.get_list('set-cookie')}")


async def sign_in_cookies(srv: Server, email: str) -> list[dict[str, str]]:
    """The session cookie as the login page sets it, then as signing in sets it."""
    async with httpx.AsyncClient(base_url=srv.url) as http:
        page = await http.get("/login")
        # Sent back by hand: a client keeps a Secure cookie for HTTPS, and this server speaks plain HTTP.
        value = page.headers["set-cookie"].split(";")[0]
        http.cookies.clear()
        done = await http.post("/login", headers={"Cookie": value}, data={
            "email": email, "password": "correct horse battery staple", "csrf": csrf_of(page.text), "next": "/tickets"})
        assert done.status_code == 303, done.text
        return [session_cookie(page), session_cookie(done)]


async def test_the_session_cookie_is_secure_only_with_session_https_only(sqlite_deployment: Deployment) -> None:
    d = sqlite_deployment
    email, _ = await new_account(d)
    async with run_server(d.env()) as plain:
        for cookie in await sign_in_cookies(plain, email):
            assert "httponly" in cookie and cookie["samesite"] == "lax" and cookie["path"] == "/"
            assert "secure" not in cookie  # over plain HTTP a Secure cookie would never come back
            assert int(cookie["max-age"]) == 7 * 86400  # SESSION_MAX_DAYS
    async with run_server(d.env(SESSION_HTTPS_ONLY="true", SESSION_MAX_DAYS="2")) as https:
        for cookie in await sign_in_cookies(https, email):
            assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "lax"
            assert int(cookie["max-age"]) == 2 * 86400


async def test_a_generated_secret_key_is_kept_with_mode_0600(sqlite_deployment: Deployment, tmp_path: Path) -> None:
    d = sqlite_deployment
    email, _ = await new_account(d)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key_file = data_dir / "secret_key"
    env = d.env(SECRET_KEY="", DATA_DIR=str(data_dir))  # no SECRET_KEY, an empty data folder
    old_umask = os.umask(0)  # the most permissive umask the server could inherit
    try:
        async with run_server(env) as first:
            assert key_file.exists()
            mode = os.stat(key_file).st_mode
            assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600, oct(mode)
            assert os.stat(key_file).st_uid == os.getuid()
            key = key_file.read_text().strip()
            assert len(key) >= 48 and key not in first.output()  # never logged
            async with httpx.AsyncClient(base_url=first.url) as http:
                page = await http.get("/login")
                assert (await http.post("/login", data={"email": email, "password": "correct horse battery staple",
                                                        "csrf": csrf_of(page.text)})).status_code == 303
                cookies = dict(http.cookies)
    finally:
        os.umask(old_umask)
    async with run_server(env) as second:  # the next start reuses the key: the session still holds
        assert key_file.read_text().strip() == key and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        async with httpx.AsyncClient(base_url=second.url, cookies=cookies) as http:
            assert (await http.get("/tickets")).status_code == 200


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def test_downloads_are_attachments_under_a_sandbox(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "A page to look at")
    page = b"<!doctype html><html><head><title>Report</title></head><body><h1>Monthly report</h1></body></html>"
    token = await token_for(server, d, "client")
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        up = await http.post(f"/api/tickets/{tid}/attachments", data={"body": "See the report"},
                             files=[("file", ("report.html", page))])
        assert up.status_code == 201, up.text
        url = up.json()["attachments"][0]["url"]
        got = await http.get(url)
    assert got.status_code == 200 and got.content == page
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    # Every policy a browser receives is enforced; one of them sandboxes the file and allows it nothing.
    policies = [[d.strip().split() for d in p.split(";")] for p in got.headers.get_list("content-security-policy")]
    assert any(["sandbox"] in p and ["default-src", "'none'"] in p for p in policies), policies
    assert "no-store" in got.headers["cache-control"]


async def test_the_request_id_is_echoed_or_made(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        mine = await http.get("/login", headers={"X-Request-ID": "lb-7f3a.9_c"})
        assert mine.headers["x-request-id"] == "lb-7f3a.9_c"
        missing = await http.get("/nowhere", headers={"X-Request-ID": "trace-404"})
        assert missing.status_code == 404 and missing.headers["x-request-id"] == "trace-404"
        made = [(await http.get("/healthz")).headers["x-request-id"] for _ in range(2)]
        assert all(re.fullmatch(r"req-[A-Za-z0-9_-]+", m) for m in made) and made[0] != made[1]
        for unsafe in ("has spaces in it", "x" * 65, "a\tb", "<script>"):  # not echoed into logs or headers
            r = await http.get("/healthz", headers={"X-Request-ID": unsafe})
            assert r.headers["x-request-id"].startswith("req-") and len(r.headers.get_list("x-request-id")) == 1
