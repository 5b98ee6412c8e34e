"""The admins' accounts page in a real browser: disabling someone ends their open ticket page at once, and a
role change is saved and shown; on a desktop and on a phone."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    Person,
    expect,
    fits_the_phone,
    log_in,
    more_action,
)
from tests.conftest import PASSWORD
from tests.realtime.access_helpers import new_account, open_ticket_as


async def as_account(browser: Any, base: str, email: str, options: dict[str, Any]) -> Person:
    context = await browser.new_context(**options)
    person = Person(context, await context.new_page())
    await person.page.goto(f"{base}/login?next=/tickets")
    await person.page.fill("#email", email)
    await person.page.fill("#password", PASSWORD)
    await person.page.click("#login-submit")
    await person.page.wait_for_url(re.compile(r"/tickets$"))
    return person


def row(page: Any, email: str) -> Any:
    return page.locator(f'#users li[data-email="{email}"]')


async def test_an_admin_disables_and_changes_accounts_and_open_pages_follow(browser: Any, live_server: Any) -> None:
    d = live_server._deployment
    base = live_server.url
    contact = await new_account(d, "client", org="Acme")
    engineer = await new_account(d, "staff", tier=2)
    ticket = await live_server.new_ticket("Shared drive is read-only")
    admin = await log_in(browser, live_server, "admin", DESKTOP, next_path="/tickets")
    target = await as_account(browser, base, contact["email"], PHONE)
    phone_admin: Person | None = None
    try:
        await target.open_ticket(base, ticket)
        page = admin.page
        await page.goto(f"{base}/admin/users")
        await page.fill("#users-q", contact["email"])
        await page.click(".users-search button")
        await expect(row(page, contact["email"])).to_have_count(1)
        await admin.shot("admin-users-desktop")
        await row(page, contact["email"]).get_by_role("button", name=re.compile("^Disable")).click()
        await expect(page.locator("#users-saved")).to_contain_text("is disabled")
        await expect(row(page, contact["email"])).to_contain_text("disabled")
        # The contact's open page hears it at once: their session is over.
        await expect(target.page.locator("#conn-text")).to_contain_text("session has ended")
        await target.shot("admin-users-disabled-target-phone")

        await page.fill("#users-q", engineer["email"])
        await page.click(".users-search button")
        item = row(page, engineer["email"])
        await item.locator("summary").click()
        await item.locator("select[name=role]").select_option("client")
        await item.locator("input[name=org]").fill("Globex")
        await item.get_by_role("button", name=re.compile("^Save")).click()
        await expect(page.locator("#users-saved")).to_contain_text("was changed")
        await expect(row(page, engineer["email"])).to_contain_text("client")
        await expect(row(page, engineer["email"])).to_contain_text("Globex")

        await item.locator("summary").click()
        await item.locator("input[name=org]").fill("No Such Org Ltd")
        await item.get_by_role("button", name=re.compile("^Save")).click()
        await expect(page.locator("#users-error")).to_contain_text("no organisation named")

        phone_admin = await log_in(browser, live_server, "admin", PHONE, next_path="/tickets")
        await phone_admin.page.goto(f"{base}/admin/users?q={engineer['email']}")
        await row(phone_admin.page, engineer["email"]).locator("summary").click()
        await fits_the_phone(phone_admin.page)
        await phone_admin.shot("admin-users-phone")
        admin.assert_clean(allow=("status of 404",))  # the refused change itself: the page sent back with 404
        target.assert_clean(allow=("4401", "WebSocket"))
    finally:
        for p in (admin, target, phone_admin):
            if p is not None:
                await p.context.close()


async def test_a_ticket_moved_away_ends_the_old_organisations_open_page(browser: Any, live_server: Any) -> None:
    d = live_server._deployment
    base = live_server.url
    owner = await new_account(d, "client", org="Acme")
    ticket = await open_ticket_as(live_server._server, owner["email"], "Filed for the wrong company")
    client = await as_account(browser, base, owner["email"], PHONE)
    senior = await log_in(browser, live_server, "engineer2", DESKTOP, next_path="/tickets")
    try:
        await client.open_ticket(base, ticket)
        await senior.open_ticket(base, ticket)
        await more_action(senior.page, "open-move")
        await senior.page.locator("#move-org").select_option(label="Globex")
        await senior.shot("ticket-move-desktop")
        await senior.page.click("#move-send")
        await expect(senior.page.locator("#messages li.system-moved")).to_contain_text("to Globex")
        await expect(client.page.locator("#conn-text")).to_contain_text("do not have access to this ticket")
        await client.shot("ticket-moved-away-phone")
        senior.assert_clean()
        client.assert_clean(allow=("4403", "WebSocket"))
    finally:
        for p in (client, senior):
            await p.context.close()
