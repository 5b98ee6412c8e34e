"""One counter per account per secret, whichever door: a domain or an e-mail address, the web or the API."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest

from tests.conftest import PASSWORD, _deployment
from tests.utils import Server, csrf_of, new_user, run_server, signed_in


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def srv(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    """A deployment of its own: these tests fill the per-address counters of 127.0.0.1."""
    async for d in _deployment(request.param):
        async with run_server(d.env()) as server:
            server.deployment = d  # type: ignore[attr-defined]
            yield server


async def web_password(http: httpx.AsyncClient, login: str, password: str) -> int:
    page = await http.get("/login")
    r = await http.post("/login", data={"email": login, "password": password, "csrf": csrf_of(page.text),
                                        "next": "/tickets"})
    return r.status_code


async def test_wrong_passwords_by_domain_and_by_e_mail_share_one_counter(srv: Server) -> None:
    domain = f"clinic-{secrets.token_hex(3)}.test"
    email = await new_user(srv.deployment, "domain_admin", org=f"Clinic {domain}",  # type: ignore[attr-defined]
                           domain=domain)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        by_domain = [await web_password(http, domain, f"wrong {i}") for i in range(5)]
        by_email = [(await http.post("/api/tokens", json={"email": email, "password": f"wrong {i}"})).status_code
                    for i in range(5)]
        assert by_domain == [401] * 5 and by_email == [401] * 5
        # Ten failures on the one account: even the right password waits now, through either door.
        assert await web_password(http, domain, PASSWORD) == 429
        right = await http.post("/api/tokens", json={"email": email, "password": PASSWORD})
        assert right.status_code == 429 and right.json()["error"]["code"] == "rate_limited"


async def test_wrong_codes_on_the_web_and_the_api_share_one_counter(srv: Server) -> None:
    email = await new_user(srv.deployment, "client", org=f"Shop {secrets.token_hex(3)}")  # type: ignore[attr-defined]
    admin = await new_user(srv.deployment, "admin")  # type: ignore[attr-defined]
    async with signed_in(srv, email, PASSWORD) as http:
        account = await http.get("/account")
        started = await http.post("/account/2fa/start", data={"csrf": csrf_of(account.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)  # type: ignore[union-attr]
        totp = pyotp.TOTP(secret)
        done = await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text), "code": totp.now()})
        assert done.status_code == 200, done.text
    async with signed_in(srv, admin, PASSWORD) as http:
        page = await http.get("/admin/app-keys")
        made = await http.post("/admin/app-keys", data={"csrf": csrf_of(page.text), "name": "VPN"})
        key = re.search(r'id="new-key">(lsk_[^<]+)<', made.text).group(1)  # type: ignore[union-attr]

    async with httpx.AsyncClient(base_url=srv.url) as web, httpx.AsyncClient(base_url=srv.url) as api:
        assert await web_password(web, email, PASSWORD) == 303  # on to the code page
        form = await web.get("/login/code")
        wrong_web = [(await web.post("/login/code", data={"csrf": csrf_of(form.text), "code": "000000"})).status_code
                     for _ in range(3)]
        wrong_api = [(await api.post("/api/otp/verify", json={"email": email, "code": "000000"},
                                     headers={"Authorization": f"Bearer {key}"})).json() for _ in range(2)]
        assert wrong_web == [401] * 3 and wrong_api == [{"valid": False}] * 2
        # Five wrong codes on the account: the right one is refused now, on the web and through the API.
        right = totp.at(time.time() + 30)
        locked = await web.post("/login/code", data={"csrf": csrf_of(form.text), "code": right})
        assert locked.status_code == 429 and "Try again in" in locked.text
        api_locked = await api.post("/api/otp/verify", json={"email": email, "code": right},
                                    headers={"Authorization": f"Bearer {key}"})
        assert api_locked.status_code == 429
