"""Per-address throttles, from one fixed client address (X-Forwarded-For, which the server trusts from its proxy
on 127.0.0.1), on SQLite and PostgreSQL: the documented number of tries goes through, the next is refused with
when to retry, and another address is not held back. docs/security.md: 50 password failures per address in 15
minutes, 20 sign-in link requests per address an hour; docs/transfers.md: 10 transfers filed per address an
hour."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from livesupport.store.database import Database
from livesupport.store.models import AuthFailure
from tests.conftest import PASSWORD, Deployment, _deployment
from tests.utils import Server, csrf_of, run_server
from tests.web.guarantee_helpers import new_account, own_address
from tests.web.transfer_helpers import answers, file_transfer, step, visitor


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


def from_address(srv: Server, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=srv.url, headers={"X-Forwarded-For": address}, timeout=20)


async def token_from(srv: Server, address: str, email: str, password: str) -> httpx.Response:
    async with from_address(srv, address) as http:
        return await http.post("/api/tokens", json={"email": email, "password": password})


async def test_fifty_password_failures_from_one_address_pause_it(server: Server, d: Deployment) -> None:
    email, _ = await new_account(d)
    address, tag = own_address(), secrets.token_hex(3)
    # 50 wrong tries on 50 different accounts (so no account reaches its own limit of 10), all from one address.
    async with from_address(server, address) as http:
        for i in range(50):
            r = await http.post("/api/tokens", json={"email": f"guess-{i}-{tag}@nowhere.test", "password": "wrong guess"})
            assert r.status_code == 401, (i, r.text)
    paused = await token_from(server, address, email, PASSWORD)  # even the right password of another account
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "rate_limited"
    assert 14 * 60 <= int(paused.headers["retry-after"]) <= 15 * 60
    assert "Try again in 15 minutes" in paused.json()["error"]["message"]
    async with from_address(server, address) as http:  # the sign-in form says the same
        page = await http.get("/login")
        form = await http.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf_of(page.text)})
        assert form.status_code == 429 and "Try again in" in form.text
    assert (await token_from(server, own_address(), email, PASSWORD)).status_code == 201  # another address is not
    # Once the window has passed (the stored failures are 15 minutes old), the address may try again.
    db = Database(d.database_url)
    try:
        async with db.write() as s:
            await s.execute(update(AuthFailure).where(AuthFailure.key == f"login-address:{address}")
                            .values(at=datetime.now(UTC) - timedelta(minutes=15, seconds=1)))
    finally:
        await db.dispose()
    assert (await token_from(server, address, email, PASSWORD)).status_code == 201


async def test_twenty_sign_in_link_requests_from_one_address_an_hour(server: Server, d: Deployment) -> None:
    email, _ = await new_account(d)
    address, tag = own_address(), secrets.token_hex(3)

    async def ask(http: httpx.AsyncClient, who: str) -> httpx.Response:
        page = await http.get("/login/link")
        return await http.post("/login/link", data={"email": who, "csrf": csrf_of(page.text)})

    async with from_address(server, address) as http:
        for i in range(20):  # 20 addresses, known or not: 5 per account would stop one account sooner
            r = await ask(http, email if i == 0 else f"link-{i}-{tag}@nowhere.test")
            assert r.status_code == 200 and "Check your e-mail" in r.text, i
        refused = await ask(http, email)
        assert refused.status_code == 429 and re.search(r"Try again in (59|60) minutes", refused.text), refused.text
    async with from_address(server, own_address()) as other:
        assert (await ask(other, email)).status_code == 200


async def test_ten_transfers_filed_from_one_address_an_hour(server: Server, d: Deployment) -> None:
    address = own_address()
    filed = set()
    for _ in range(10):
        async with visitor(server.url, address) as http:
            filed.add(await file_transfer(http, answers()))
    assert len(filed) == 10
    given = answers()
    async with visitor(server.url, address) as http:
        for number in range(1, 7):
            assert (await step(http, number, given[number])).status_code == 303
        refused = await step(http, 7, {}, "submit")
        assert refused.status_code == 429 and "Try again in" in refused.text
        page = await http.get("/transfer")
        assert 'id="transfer-filed"' not in page.text and given[1]["org_name"] in page.text  # kept, not filed
    async with visitor(server.url, own_address()) as other:  # someone else files as usual
        assert await file_transfer(other, given) not in filed


async def test_a_client_that_is_not_the_proxy_cannot_choose_its_address() -> None:
    """X-Forwarded-For counts only from a trusted proxy (uvicorn's FORWARDED_ALLOW_IPS, 127.0.0.1 by default):
    a client connecting directly cannot dodge the address limit by sending a new one with each try."""
    async for d in _deployment("sqlite"):  # a database of its own: 127.0.0.1 itself gets paused here
        email, _ = await new_account(d)
        async with run_server(d.env(FORWARDED_ALLOW_IPS="192.0.2.1")) as srv:  # the proxy is elsewhere, not us
            tag = secrets.token_hex(3)
            for i in range(50):
                r = await token_from(srv, own_address(), f"dodge-{i}-{tag}@nowhere.test", "wrong guess")
                assert r.status_code == 401, (i, r.text)
            paused = await token_from(srv, own_address(), email, PASSWORD)
            assert paused.status_code == 429 and paused.json()["error"]["code"] == "rate_limited"
