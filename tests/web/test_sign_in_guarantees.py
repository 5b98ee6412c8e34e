"""Guarantees of signing in, on SQLite and PostgreSQL through a real server: an old Argon2 hash is replaced at
the next sign-in, "sign out everywhere else" ends every other session, token and socket, and a revoked
application key stops working at once."""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import argon2
import httpx
import pyotp
import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from livesupport.store.database import Database
from livesupport.store.models import User
from tests.conftest import PASSWORD, Deployment
from tests.utils import Server, csrf_of, signed_in
from tests.web.guarantee_helpers import new_account

# What the server uses (OWASP: argon2id, 19 MiB, 2 passes, 1 lane), and something weaker from an older release.
CURRENT = {"type": argon2.Type.ID, "memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}
OLD_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def stored_hash(d: Deployment, user_id: int, new: str | None = None) -> str:
    """The users row's password hash (after writing `new` into it, when given)."""
    db = Database(d.database_url)
    try:
        if new is not None:
            async with db.write() as s:
                await s.execute(update(User).where(User.id == user_id).values(password_hash=new))
        async with db.read() as s:
            return str((await s.execute(select(User.password_hash).where(User.id == user_id))).scalar_one())
    finally:
        await db.dispose()


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await http.get("/login")
    return await http.post("/login", data={"email": email, "password": password, "csrf": csrf_of(page.text),
                                           "next": "/tickets"})


def parameters(hashed: str) -> dict[str, object]:
    p = argon2.extract_parameters(hashed)
    return {"type": p.type, "memory_cost": p.memory_cost, "time_cost": p.time_cost, "parallelism": p.parallelism}


async def test_an_old_argon2_hash_is_replaced_at_the_next_sign_in(server: Server, d: Deployment) -> None:
    email, uid = await new_account(d)
    assert parameters(await stored_hash(d, uid)) == CURRENT
    old = await stored_hash(d, uid, OLD_HASHER.hash(PASSWORD))  # as an older release stored it
    assert parameters(old)["time_cost"] == 1 and parameters(old)["memory_cost"] == 8 * 1024
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await login(http, email, "not the password")).status_code == 401
        assert await stored_hash(d, uid) == old  # a wrong password changes nothing
        signed = await login(http, email)
        assert signed.status_code == 303 and signed.headers["location"] == "/tickets"
    upgraded = await stored_hash(d, uid)
    assert upgraded != old and parameters(upgraded) == CURRENT
    assert argon2.PasswordHasher().verify(upgraded, PASSWORD)
    async with httpx.AsyncClient(base_url=server.url) as http:  # and the new hash signs in, and stays
        assert (await login(http, email)).status_code == 303
    assert await stored_hash(d, uid) == upgraded


async def test_sign_out_everywhere_else(server: Server, d: Deployment) -> None:
    email, _ = await new_account(d)
    async with signed_in(server, email) as here, signed_in(server, email) as laptop, \
            httpx.AsyncClient(base_url=server.url) as script:
        token = (await script.post("/api/tokens", json={"email": email, "password": PASSWORD})).json()["token"]
        laptop_cookie = "; ".join(f"{k}={v}" for k, v in laptop.cookies.items())
        here_before = "; ".join(f"{k}={v}" for k, v in here.cookies.items())
        ws_url = server.ws_url
        async with connect(f"{ws_url}?token={token}") as by_token, \
                connect(ws_url, additional_headers={"Cookie": laptop_cookie}, origin=server.url) as by_cookie:  # type: ignore[arg-type]
            for ws in (by_token, by_cookie):  # both open and answering
                await ws.send('{"type": "ping", "ref": "p"}')
                assert '"pong"' in await asyncio.wait_for(ws.recv(), 10)
            account = await here.get("/account")
            forged = await here.post("/account/sessions", data={})  # no CSRF token: refused, nothing ends
            assert forged.status_code == 403
            assert (await laptop.get("/account")).status_code == 200
            done = await here.post("/account/sessions", data={"csrf": csrf_of(account.text)})
            assert done.status_code == 303 and done.headers["location"] == "/account?saved=sessions"
            for ws in (by_token, by_cookie):
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert (await here.get("/account")).status_code == 200  # this browser carries on, with a new session
        gone = await laptop.get("/account")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert (await script.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})).status_code == 401
        async with httpx.AsyncClient(base_url=server.url) as thief:  # a copy of this browser's old cookie is dead too
            old = await thief.get("/account", headers={"Cookie": here_before})
            assert old.status_code == 303


async def test_a_revoked_application_key_stops_working(server: Server, d: Deployment) -> None:
    admin, _ = await new_account(d, "admin")
    engineer, _ = await new_account(d, "staff", tier=2)
    async with signed_in(server, engineer) as http:  # the engineer turns two-factor on
        account = await http.get("/account")
        started = await http.post("/account/2fa/start", data={"csrf": csrf_of(account.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)  # type: ignore[union-attr]
        totp = pyotp.TOTP(secret)
        confirmed = await http.post("/account/2fa/confirm", data={"csrf": csrf_of(started.text), "code": totp.now()})
        assert confirmed.status_code == 200
    async with signed_in(server, admin) as http:
        page = await http.get("/admin/app-keys")
        keys, vpn_name = [], f"VPN gateway {secrets.token_hex(3)}"
        for name in (vpn_name, f"Phone system {secrets.token_hex(3)}"):
            made = await http.post("/admin/app-keys", data={"csrf": csrf_of(page.text), "name": name})
            keys.append(re.search(r'id="new-key">(lsk_[^<]+)<', made.text).group(1))  # type: ignore[union-attr]
        vpn, phones = keys

        async def verify(key: str, code: str) -> httpx.Response:
            return await http.post("/api/otp/verify", json={"email": engineer, "code": code},
                                   headers={"Authorization": f"Bearer {key}"})

        assert (await verify(vpn, "000000")).json() == {"valid": False}  # the key works: a wrong code is an answer
        listing = await http.get("/admin/app-keys")
        vpn_id = re.search(rf'{vpn_name}</strong>.*?name="revoke" value="(\d+)"', listing.text, re.S).group(1)  # type: ignore[union-attr]
        revoked = await http.post("/admin/app-keys", data={"csrf": csrf_of(listing.text), "revoke": vpn_id})
        assert revoked.status_code == 303
        listing = await http.get("/admin/app-keys")
        vpn_item = listing.text.split(f"<strong>{vpn_name}</strong>")[1].split("</li>")[0]
        assert "<em>revoked</em>" in vpn_item and 'name="revoke"' not in vpn_item
        code = totp.at(time.time() + 30)  # a good code, not used yet
        refused = await verify(vpn, code)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert "revoked" in refused.json()["error"]["message"]
        good = await verify(phones, code)  # the other key still works, and the refusal did not use the code up
        assert good.status_code == 200 and good.json()["valid"] is True and good.json()["user"]["email"] == engineer
