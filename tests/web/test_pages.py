"""The browser pages over plain HTTP: login, CSRF, the session socket's Origin check, headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer
from tests.utils import csrf_of


@asynccontextmanager
async def logged_in(live: LiveServer, who: str = "client") -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url) as http:
        email, password = live.users[who]
        page = await http.get("/login")
        r = await http.post("/login", data={"email": email, "password": password, "csrf": csrf_of(page.text),
                                            "next": "/tickets"})
        assert r.status_code == 303 and r.headers["location"] == "/tickets"
        yield http


async def test_pages_need_a_login(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        r = await http.get("/tickets/new?x=1")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/tickets/new")
        assert (await http.get("/")).headers["location"] == "/login"


async def test_login_form(live_server: LiveServer) -> None:
    email, password = live_server.users["client"]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        page = await http.get("/login")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        token = csrf_of(page.text)
        r = await http.post("/login", data={"email": email, "password": "wrong!", "csrf": token})
        assert r.status_code == 401 and "do not match" in r.text and email in r.text
        r = await http.post("/login", data={"email": email, "password": password})  # no csrf
        assert r.status_code == 403 and "expired" in r.text
        r = await http.post("/login", data={"email": email, "password": password, "csrf": token,
                                            "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/tickets"
        assert (await http.get("/tickets")).status_code == 200


async def test_new_ticket_form_keeps_what_was_typed(live_server: LiveServer) -> None:
    async with logged_in(live_server) as http:
        page = await http.get("/tickets/new")
        token = csrf_of(page.text)
        r = await http.post("/tickets/new", data={"subject": "", "body": "My long careful description",
                                                  "priority": "high", "csrf": token})
        assert r.status_code == 400 and "My long careful description" in r.text and "subject" in r.text
        r = await http.post("/tickets/new", data={"subject": "Scanner offline", "body": "Since 9am",
                                                  "priority": "high", "csrf": "forged"})
        assert r.status_code == 403 and "Since 9am" in r.text
        r = await http.post("/tickets/new", data={"subject": "Scanner offline", "body": "Since 9am",
                                                  "priority": "high", "csrf": token})
        assert r.status_code == 303
        page = await http.get(r.headers["location"])
        assert page.status_code == 200 and "Scanner offline" in page.text
        listing = await http.get("/tickets")
        assert "Scanner offline" in listing.text


async def test_other_organisations_ticket_is_not_found(live_server: LiveServer) -> None:
    tid = await live_server.new_ticket("Acme only")
    async with logged_in(live_server, "outsider") as http:
        r = await http.get(f"/tickets/{tid}")
        assert r.status_code == 404 and "Acme only" not in r.text
        assert "Acme only" not in (await http.get("/tickets")).text


async def test_cookie_api_calls_need_the_csrf_header(live_server: LiveServer) -> None:
    async with logged_in(live_server) as http:
        r = await http.post("/api/tickets", json={"subject": "x", "body": "y"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
        assert (await http.get("/api/tickets")).status_code == 200


async def test_logout(live_server: LiveServer) -> None:
    # Signing out ends the person's sessions everywhere: one of the test's own, not Alice.
    async with logged_in(live_server, await live_server.new_user()) as http:
        page = await http.get("/tickets")
        r = await http.post("/logout", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303
        assert (await http.get("/tickets")).status_code == 303


@pytest.mark.parametrize(("origin", "allowed"), [("own", True), ("http://evil.example", False), (None, False)])
async def test_session_socket_checks_the_origin(live_server: LiveServer, origin: str | None, allowed: bool) -> None:
    tid = await live_server.new_ticket("Origin check")
    async with logged_in(live_server) as http:
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    headers = {"Cookie": cookie}
    ws_url = live_server.url.replace("http://", "ws://") + "/ws"
    kwargs = {"origin": live_server.url if origin == "own" else origin} if origin else {}
    async with connect(ws_url, additional_headers=headers, **kwargs) as ws:
        if allowed:
            await ws.send(f'{{"type": "join", "topic": "ticket:{tid}"}}')
            assert '"joined"' in await ws.recv()
        else:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_feedback_is_stored_with_its_page(live_server: LiveServer) -> None:
    async with logged_in(live_server) as http:
        page = await http.get("/feedback?page=/tickets/7")
        assert page.status_code == 200 and "/tickets/7" in page.text
        token = csrf_of(page.text)
        r = await http.post("/feedback", data={"page": "/tickets/7", "body": "", "csrf": token})
        assert r.status_code == 400 and "few words" in r.text
        r = await http.post("/feedback", data={"page": "https://evil.example/", "body": "The counter is great",
                                               "csrf": token})
        assert r.status_code == 200 and "saved" in r.text
    async with logged_in(live_server, "engineer") as staff:
        listing = await staff.get("/feedback/all")
        assert listing.status_code == 200 and "The counter is great" in listing.text
        assert "evil.example" not in listing.text  # only local pages are kept
    async with logged_in(live_server, "client") as client:
        assert (await client.get("/feedback/all")).status_code == 404


async def test_logout_ends_the_session_everywhere(live_server: LiveServer) -> None:
    """The cookie stops working even if someone kept a copy, and the open socket is closed with 4401."""
    tid = await live_server.new_ticket("Logout closes sockets")
    async with logged_in(live_server, await live_server.new_user()) as http:  # all their sessions end: not Alice's
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        ws_url = live_server.url.replace("http://", "ws://") + "/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie}, origin=live_server.url) as ws:
            await ws.send(f'{{"type": "join", "topic": "ticket:{tid}"}}')
            assert '"joined"' in await ws.recv()
            page = await http.get("/tickets")
            assert (await http.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with httpx.AsyncClient(base_url=live_server.url, headers={"Cookie": cookie}) as replay:
        assert (await replay.get("/tickets")).status_code == 303  # the copied cookie is dead
