"""Every return path (`next` of the sign-in, feedback's `page`) stays on this site."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.conftest import Deployment, new_person
from tests.utils import Server, csrf_of, signed_in

#: (what is sent, where it may lead)
TARGETS = [
    ("/\\evil.com", None), ("/%09/evil.com", None), ("//evil.com", None), ("https://evil.com", None),
    ("javascript:alert(1)", None), ("/%5Cevil.com", None), ("/%2F/evil.com", None), ("/\t/evil.com", None),
    ("/ok/path", "/ok/path"), ("/tickets?status=open", "/tickets?status=open"),
]


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page[:300]
    return html.unescape(found.group(1))


@pytest.mark.parametrize(("target", "kept"), TARGETS)
async def test_the_sign_in_returns_only_to_a_local_path(server: Server, deployment: Deployment, target: str,
                                                       kept: str | None) -> None:
    user = deployment.users["client"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/login", params={"next": target})
        assert hidden(page.text, "next") == (kept or "")  # none: the person lands on their own work
        r = await http.post("/login", data={"email": user["email"], "password": user["password"],
                                            "csrf": csrf_of(page.text), "next": target})
        assert r.status_code == 303 and r.headers["location"] == (kept or "/tickets")
        again = await http.get("/login", params={"next": target})  # signed in: straight there
        assert again.status_code == 303 and again.headers["location"] == (kept or "/tickets")


@pytest.mark.parametrize(("target", "kept"), TARGETS)
async def test_feedback_returns_only_to_a_local_path(server: Server, deployment: Deployment, target: str,
                                                    kept: str | None) -> None:
    async with signed_in(server, deployment.users["client"]["email"]) as http:
        page = await http.get("/feedback", params={"page": target})
        assert hidden(page.text, "page") == (kept or "/")
        r = await http.post("/feedback", data={"page": target, "body": "The page was fine.",
                                               "csrf": csrf_of(page.text)})
        assert r.status_code == 200
        back = re.search(r'href="([^"]*)">Back to where you were', r.text)
        assert back and html.unescape(back.group(1)) == (kept or "/")


@pytest.mark.parametrize(("role", "landing"), [("billing", "/billing/orgs"), ("client", "/tickets"),
                                               ("staff", "/tickets"), ("admin", "/tickets")])
async def test_with_no_return_path_each_person_lands_on_their_own_work(server: Server, deployment: Deployment,
                                                                       role: str, landing: str) -> None:
    """Billing staff have no tickets: they land on the organisations they bill. A return path still wins."""
    who = await new_person(deployment, role=role, org="Acme" if role == "client" else None,
                           tier=2 if role == "staff" else None)
    user = deployment.users[who]
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/login")
        r = await http.post("/login", data={"email": user["email"], "password": user["password"],
                                            "csrf": csrf_of(page.text), "next": hidden(page.text, "next")})
        assert r.status_code == 303 and r.headers["location"] == landing
        home = await http.get("/")
        assert home.status_code == 303 and home.headers["location"] == landing
        again = await http.get("/login")
        assert again.status_code == 303 and again.headers["location"] == landing
        asked = await http.get("/login", params={"next": "/account"})
        assert asked.status_code == 303 and asked.headers["location"] == "/account"
    async with httpx.AsyncClient(base_url=server.url) as http:  # a return path wins over the landing
        page = await http.get("/login", params={"next": "/account"})
        r = await http.post("/login", data={"email": user["email"], "password": user["password"],
                                            "csrf": csrf_of(page.text), "next": hidden(page.text, "next")})
        assert r.status_code == 303 and r.headers["location"] == "/account"
