"""Billing in a real browser: a suspension shows up at once, and paying takes it away just as live.

A domain administrator has the organisation's billing page open and a client of the same organisation the
ticket list. `livesupport worker --once --now <the 15th, 00:01>` runs as its own process on the same database
and suspends the organisation: both see the banner without reloading. Billing staff then record the payment
on the billing page, and the banner goes away on both. The worker reaches the web server's sockets through
Redis, as a `livesupport worker` process does when the desk runs on several machines.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.helpers import PHONE, expect, fits_the_phone, log_in
from tests.conftest import PASSWORD, Deployment
from tests.utils import Server, cli, run_server

TZ = ZoneInfo("America/New_York")


def months_ahead(n: int) -> date:
    """The 1st of the month `n` months after this one: the server's own worker (the real clock) leaves it be."""
    day = datetime.now(UTC).astimezone(TZ).date().replace(day=1)
    for _ in range(n):
        day = (day + timedelta(days=32)).replace(day=1)
    return day


def local(day: date, hour: int, minute: int, second: int = 0) -> str:
    return datetime.combine(day, time(hour, minute, second), TZ).isoformat()


@pytest.fixture(scope="module")
async def redis_server(sqlite_deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[Any]:
    """A server on the browser tests' database that hears other processes (the worker) through Redis."""
    url, prefix = redis_url
    env = {"REDIS_URL": url, "REDIS_PREFIX": prefix}
    async with run_server(sqlite_deployment.env(**env)) as srv:
        yield SimpleNamespace(server=srv, url=srv.url, env=env, deployment=sqlite_deployment, users={})


async def run(site: Any, *args: str) -> str:
    done = await asyncio.to_thread(cli, site.deployment, *args, **site.env)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def org_id(server: Server, email: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        token = (await http.post("/api/tokens", json={"email": email, "password": PASSWORD})).json()["token"]
        orgs = (await http.get("/api/orgs", headers={"Authorization": f"Bearer {token}"})).json()["orgs"]
    (org,) = orgs
    return int(org["id"])


async def test_a_suspension_shows_at_once_and_paying_removes_it(browser: Any, redis_server: Any) -> None:
    site = redis_server
    tag = secrets.token_hex(3)
    org = f"Banner clinic {tag}"
    period = months_ahead(6)
    people = {"admin": f"it@banner-{tag}.test", "client": f"front-desk@banner-{tag}.test",
              "billing": f"billing-{tag}@support.test"}
    await run(site, "user", "add", "--email", people["admin"], "--password", PASSWORD, "--role", "domain_admin",
              "--org", org, "--name", "Bo Admin")
    await run(site, "user", "add", "--email", people["client"], "--password", PASSWORD, "--role", "client",
              "--org", org, "--name", "Cy Client")
    await run(site, "user", "add", "--email", people["billing"], "--password", PASSWORD, "--role", "billing",
              "--name", "Bea Billing")
    await run(site, "service", "add", "--org", org, "--name", "Mail filtering", "--monthly-cents", "2500",
              "--started", local(months_ahead(5).replace(day=10), 9, 0))
    assert "invoices issued 1" in await run(site, "worker", "--once", "--now", local(period, 0, 0, 30))
    site.users = {who: (email, PASSWORD) for who, email in people.items()}
    org_page = f"/billing/org/{await org_id(site.server, people['admin'])}"

    admin = await log_in(browser, site, "admin", next_path=org_page)
    client = await log_in(browser, site, "client", next_path="/tickets")
    billing = await log_in(browser, site, "billing", next_path=org_page)
    try:
        a, c = admin.page, client.page
        for page in (a, c):
            await expect(page.locator("#billing-banner-region")).to_have_attribute("data-following", "true")
            await expect(page.locator("#billing-banner")).to_have_count(0)
            await page.evaluate("() => { window.sameDocument = true; }")
        await expect(a.locator("#owed")).to_have_text("$25.00")
        await expect(a.locator("#next-deadline")).to_contain_text("to avoid a $39.00 late fee")

        # The worker, a process of its own, suspends the organisation at 00:01 on the 15th.
        report = await run(site, "worker", "--once", "--now", local(period.replace(day=15), 0, 1))
        assert "organisations suspended 1" in report, report
        for page, link in ((a, org_page), (c, "/billing")):
            banner = page.locator("#billing-banner")
            await expect(banner).to_be_visible()
            await expect(banner).to_have_attribute("role", "alert")
            await expect(banner).to_contain_text("Your services are suspended")
            await expect(banner).to_contain_text("$69.00 reconnection fee")
            await expect(banner.locator("a")).to_have_attribute("href", link)
            assert await page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
        await expect(a.locator("#standing")).to_have_text("Services suspended")  # the page's badge follows
        await admin.shot("billing-suspended-banner")

        # Any page opened meanwhile has it from the server.
        other = await admin.context.new_page()
        await other.goto(site.url + "/account")
        await expect(other.locator("#billing-banner")).to_contain_text("Your services are suspended")
        await other.close()

        # Billing staff record the whole amount owed, typed as a person types it.
        b = billing.page
        await b.reload()
        due = b.locator(".billing-invoice[data-status='open'] .billing-due .billing-money")
        await expect(due).to_have_text("$133.00")  # $25.00 + the $39.00 late fee + the $69.00 reconnection fee
        amount = b.locator(".billing-invoice[data-status='open'] input[name='amount']")
        await amount.fill("133.00")
        await b.get_by_role("button", name="Record payment").click()
        await b.wait_for_url(re.compile(re.escape(org_page) + r"#invoice-\d+$"))
        await expect(b.locator("#billing-saved")).to_contain_text("$133.00 recorded")
        await expect(b.locator("#billing-saved")).to_contain_text("paid in full")
        await expect(b.locator("#owed")).to_have_text("$0.00")

        # The banner goes away, live, on both pages.
        for page in (a, c):
            await expect(page.locator("#billing-banner")).to_have_count(0)
            await expect(page.locator("#billing-restored")).to_contain_text("running again")
            assert await page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
        await a.reload()
        await expect(a.locator("#billing-banner")).to_have_count(0)
        await expect(a.locator('[data-service-id] .badge')).to_have_text("Active")
        for person in (admin, client, billing):
            person.assert_clean()
    finally:
        for person in (admin, client, billing):
            await person.context.close()


async def test_the_billing_pages_fit_a_phone(browser: Any, redis_server: Any) -> None:
    site = redis_server
    tag = secrets.token_hex(3)
    org = f"Phone clinic {tag}"
    email = f"it@phone-{tag}.test"
    await run(site, "user", "add", "--email", email, "--password", PASSWORD, "--role", "domain_admin", "--org", org)
    for name in ("Managed backups for every workstation", "Mail filtering"):
        await run(site, "service", "add", "--org", org, "--name", name, "--monthly-cents", "123456",
                  "--started", local(months_ahead(5).replace(day=10), 9, 0))
    site.users = {"admin": (email, PASSWORD)}
    await run(site, "worker", "--once", "--now", local(months_ahead(6).replace(day=15), 0, 1))
    org_page = f"/billing/org/{await org_id(site.server, email)}"
    admin = await log_in(browser, site, "admin", PHONE, next_path=org_page)
    try:
        p = admin.page
        await expect(p.locator("#billing-banner")).to_be_visible()  # suspended: rendered by the server
        await expect(p.locator(".billing-line.is-fee")).to_have_count(2)
        await fits_the_phone(p)
        await p.locator("a[id^='cancel-']").first.click()
        await expect(p.locator("#cancel-explanation")).to_contain_text("Service ends")
        await fits_the_phone(p)
        # Confirmed, the service shows as cancelled, to the end of its last month (unless it is the month's
        # last 12 hours on the real clock, when the refusal says why).
        await p.locator("#cancel-confirm").click()
        await expect(p.locator("#cancel-done, #cancel-refused")).to_be_visible()
        await fits_the_phone(p)
        await p.goto(site.url + org_page)
        await fits_the_phone(p)
        await p.goto(site.url + "/billing")
        await fits_the_phone(p)
        admin.assert_clean()
    finally:
        await admin.context.close()


async def test_staff_see_what_waiving_the_notice_does_before_confirming(browser: Any, redis_server: Any) -> None:
    site = redis_server
    tag = secrets.token_hex(3)
    org = f"Waive clinic {tag}"
    people = {"admin": f"it@waive-{tag}.test", "billing": f"billing-{tag}@support.test"}
    await run(site, "user", "add", "--email", people["admin"], "--password", PASSWORD, "--role", "domain_admin",
              "--org", org)
    await run(site, "user", "add", "--email", people["billing"], "--password", PASSWORD, "--role", "billing")
    added = await run(site, "service", "add", "--org", org, "--name", "Mail filtering", "--monthly-cents", "2500",
                      "--started", local(months_ahead(5).replace(day=10), 9, 0))
    service = int(re.search(r"added service (\d+)", added).group(1))  # type: ignore[union-attr]
    site.users = {who: (email, PASSWORD) for who, email in people.items()}
    path = f"/billing/services/{service}/cancel"
    staff = await log_in(browser, site, "billing", next_path=path)
    try:
        p = staff.page
        await expect(p.locator("#outcome-notice")).to_contain_text("runs to")
        await expect(p.locator("#waive-apply")).to_be_hidden()  # the script applies the box at once
        await p.locator("#waive").check()
        await p.wait_for_url(re.compile(re.escape(path) + r"\?waive=1$"))
        await expect(p.locator("#outcome-notice")).to_have_text("waived")
        await expect(p.locator("#cancel-explanation")).to_contain_text("Notice is waived")
        await expect(p.locator("#waive")).to_be_checked()
        await expect(p.locator('#cancel-form input[name="waive"]')).to_have_value("1")
        await p.locator("#waive").uncheck()
        await p.wait_for_url(re.compile(re.escape(path) + r"\??$"))
        await expect(p.locator("#outcome-notice")).to_contain_text("runs to")
        await expect(p.locator('#cancel-form input[name="waive"]')).to_have_count(0)
        staff.assert_clean()
    finally:
        await staff.context.close()
