"""Managing accounts: the `livesupport user disable|enable|set` commands and the admins' page refuse clearly and
change nothing when asked wrongly; Level 3 and admins move a ticket from its page. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import select

from livesupport.store.database import Database
from livesupport.store.models import AccountAudit, User
from tests.conftest import PASSWORD, Deployment
from tests.realtime.access_helpers import new_account, open_ticket_as, token_of
from tests.utils import Server, cli, csrf_of, signed_in
from tests.web.transfer_helpers import mails_to


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined]


async def run(d: Deployment, *args: str) -> tuple[int, str]:
    done = await asyncio.to_thread(cli, d, "user", *args)
    return done.returncode, done.stdout + done.stderr


async def stored(d: Deployment, email: str) -> tuple[User, list[AccountAudit]]:
    db = Database(d.database_url)
    try:
        async with db.read() as s:
            user = (await s.execute(select(User).where(User.email == email))).scalar_one()
            audit = list((await s.execute(select(AccountAudit).where(AccountAudit.user_id == user.id)
                                          .order_by(AccountAudit.id))).scalars())
    finally:
        await db.dispose()
    return user, audit


async def test_the_commands_refuse_clearly_and_change_nothing(server: Server, d: Deployment) -> None:
    someone = await new_account(d, "staff", tier=2)
    for args, words in [
        (("disable", "--email", "nobody@nowhere.test"), "There is no account for nobody@nowhere.test"),
        (("set", "--email", someone["email"]), "Say what to change"),
        (("set", "--email", someone["email"], "--role", "client"), "belongs to an organisation"),
        (("set", "--email", someone["email"], "--org", "No Such Org Inc"), "no organisation named"),
        (("set", "--email", someone["email"], "--role", "wizard"), "invalid choice"),
    ]:
        code, out = await run(d, *args)
        assert code == 2 and words in out, (args, out)
    user, audit = await stored(d, someone["email"])
    assert (user.role, user.tier, user.disabled_at, audit) == ("staff", 2, None, [])

    code, out = await run(d, "set", "--email", someone["email"], "--tier", "3")
    assert code == 0 and "level 3" in out
    user, audit = await stored(d, someone["email"])
    assert user.tier == 3 and [a.action for a in audit] == ["set"] and audit[0].detail == "tier: 2 -> 3"


async def test_the_accounts_page_is_for_admins_and_refuses_a_stale_form(server: Server, d: Deployment) -> None:
    target = await new_account(d, "client", org="Acme")
    async with signed_in(server, d.users["engineer"]["email"]) as staff:
        assert (await staff.get("/admin/users")).status_code == 404
    async with signed_in(server, d.users["admin"]["email"]) as admin:
        page = await admin.get("/admin/users", params={"q": target["email"]})
        assert page.status_code == 200 and target["email"] in page.text
        stale = await admin.post("/admin/users", data={"csrf": "forged", "email": target["email"], "action": "disable"})
        assert stale.status_code == 403
        own = await admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": d.users["admin"]["email"],
                                                    "action": "disable"})
        assert own.status_code == 400 and "your own account" in own.text
        odd = await admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": target["email"],
                                                    "action": "delete"})
        assert odd.status_code == 400 and "Choose what to do" in odd.text
        user, audit = await stored(d, target["email"])
        assert user.disabled_at is None and audit == []

        link = await sign_in_link(server, d, target["email"])  # asked for before, used after
        done = await admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": target["email"],
                                                     "action": "disable", "q": target["email"]})
        assert done.status_code == 303
        user, audit = await stored(d, target["email"])
        assert user.disabled_at is not None and audit[0].actor_id == d.users["admin"]["id"]
    # No door lets them in: the token API, the password form, a sign-in link sent earlier.
    assert (await token_of(server, target["email"])).status_code == 401
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Forwarded-For": "10.9.8.7"}) as http:
        form = await http.get("/login")
        r = await http.post("/login", data={"email": target["email"], "password": PASSWORD,
                                           "csrf": csrf_of(form.text), "next": "/tickets"})
        assert r.status_code == 401
        landing = await http.get(link)
        used = await http.post(link, data={"csrf": csrf_of(landing.text)})
        assert used.status_code == 401
        assert (await http.get("/tickets")).status_code in (302, 303, 307)  # not signed in


async def test_the_accounts_and_move_forms_are_read_within_bounds(server: Server, d: Deployment) -> None:
    """Their forms go through web.limits.read_form like every page form: too many fields is a 400, nothing done."""
    target = await new_account(d, "client", org="Acme")
    owner = await new_account(d, "client", org="Acme")
    tid = await open_ticket_as(server, owner["email"], "Stays where it is")
    padding = {f"f{i}": "1" for i in range(250)}
    async with signed_in(server, d.users["admin"]["email"]) as admin:
        page = await admin.get(f"/tickets/{tid}")
        globex = re.search(r'<option value="(\d+)">Globex</option>', page.text)
        assert globex, "Globex is offered"
        wide = await admin.post("/admin/users", data={"csrf": csrf_of(page.text), "email": target["email"],
                                                     "action": "disable", **padding})
        assert wide.status_code == 400 and "fields" in wide.text
        moved = await admin.post(f"/tickets/{tid}/move", data={"csrf": csrf_of(page.text),
                                                               "org_id": globex.group(1), **padding})
        assert moved.status_code == 400 and "fields" in moved.text
        assert "Stays where it is" in (await admin.get(f"/tickets/{tid}")).text
    user, audit = await stored(d, target["email"])
    assert user.disabled_at is None and audit == []
    token = (await token_of(server, owner["email"])).json()["token"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        still = await http.get(f"/api/tickets/{tid}", headers={"Authorization": f"Bearer {token}"})
    assert still.status_code == 200  # not moved away from its organisation


async def sign_in_link(server: Server, d: Deployment, email: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Forwarded-For": "10.9.8.6"}) as http:
        page = await http.get("/login/link")
        r = await http.post("/login/link", data={"email": email, "csrf": csrf_of(page.text)})
        assert r.status_code == 200
    async with asyncio.timeout(10):  # the link is made and mailed after the answer: wait until it is
        while True:
            for _, body in reversed(await mails_to(d, email)):
                if match := re.search(r"https?://\S+?(/login/link/\S+)", body):
                    return match.group(1)
            await asyncio.sleep(0.05)


async def test_level_3_moves_a_ticket_from_its_page(server: Server, d: Deployment) -> None:
    owner = await new_account(d, "client", org="Acme")
    tid = await open_ticket_as(server, owner["email"], "Wrong company")
    async with signed_in(server, d.users["engineer"]["email"]) as level2:
        assert 'id="move"' not in (await level2.get(f"/tickets/{tid}")).text
    async with signed_in(server, d.users["engineer2"]["email"]) as level3:
        page = await level3.get(f"/tickets/{tid}")
        assert 'id="move"' in page.text
        globex = re.search(r'<option value="(\d+)">Globex</option>', page.text)
        assert globex, "Globex is offered"
        r = await level3.post(f"/tickets/{tid}/move", data={"csrf": csrf_of(page.text), "org_id": globex.group(1)})
        assert r.status_code == 303 and r.headers["location"] == f"/tickets/{tid}"
        stale = await level3.post(f"/tickets/{tid}/move", data={"csrf": "x", "org_id": globex.group(1)})
        assert stale.status_code == 303 and "move_error" in stale.headers["location"]
        shown = await level3.get(stale.headers["location"])
        assert "This form had expired" in shown.text
    token = (await token_of(server, owner["email"])).json()["token"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        gone = await http.get(f"/api/tickets/{tid}", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 403
