"""The live ticket page in a real browser (Debian's Chromium driven by Playwright) against a real server.

Two people in two browser contexts on one ticket: presence, the viewer counter, chat both ways without
a reload, internal notes that never reach the client, the typing indicator, the working state and
status changes. Then the phone layout, the offline outbox with a conflict, and the plain pages.

Every page runs under the server's Content-Security-Policy; a CSP violation or a script error fails the test.
Set LIVESUPPORT_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.helpers import DESKTOP, PHONE, Person, expect, log_in, message, send


async def test_client_and_engineer_work_a_ticket_live(browser: Any, live_server: Any) -> None:
    ticket = await live_server.new_ticket(
        "Printer offline since the move", "The office printer shows offline."
    )
    client = await log_in(browser, live_server, "client")
    engineer = await log_in(browser, live_server, "engineer")
    try:
        c, e = client.page, engineer.page
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)
        client_id, engineer_id = await client.my_id(), await engineer.my_id()
        client_name, engineer_name = await client.my_name(), await engineer.my_name()
        await expect(e.locator("#ticket-page")).to_have_attribute("data-staff", "true")
        await expect(c.locator("#ticket-page")).to_have_attribute("data-staff", "false")

        # The opening message is there for both (replayed on join).
        await expect(message(c, "The office printer shows offline.", "public")).to_have_count(1)
        await expect(message(e, "The office printer shows offline.", "public")).to_have_count(1)

        # Presence: each sees the other, and the counter says two.
        for page in (c, e):
            await expect(page.locator("#viewer-count")).to_have_text("2 viewing")
            await expect(page.locator(f'#presence li[data-user-id="{client_id}"]')).to_have_count(1)
            await expect(page.locator(f'#presence li[data-user-id="{engineer_id}"]')).to_have_count(
                1
            )
        await expect(c.locator(f'#presence li[data-user-id="{engineer_id}"]')).to_contain_text(
            "Level 2"
        )

        # Typing shows on the other side, and goes away a few seconds after the last keystroke.
        await c.locator("#message").press_sequentially("Hello, is anyone", delay=20)
        await expect(e.locator("#typing")).to_have_text(f"{client_name} is typing…")
        await expect(c.locator("#typing")).to_have_text("")
        await expect(e.locator("#typing")).to_have_text("", timeout=9_000)

        # The client's message reaches the engineer without a reload, and back.
        await send(client, "Hello, is anyone there? The printer is still offline.")
        await expect(message(e, "The printer is still offline.", "public")).to_have_count(1)
        await expect(message(e, "The printer is still offline.")).to_contain_text(client_name)
        await send(engineer, "Hi! I'm on it – can you read me the IP on its display?")
        await expect(message(c, "can you read me the IP on its display?", "public")).to_have_count(
            1
        )

        # Staff tools are for staff only.
        for staff_only in ("#internal", "#status-select", "#working-toggle"):
            await expect(c.locator(staff_only)).to_have_count(0)

        # An internal note: typing it is not shown to the client, the note is shown to staff only.
        await e.check("#internal")
        await expect(e.locator("#composer")).to_have_attribute("data-mode", "internal")
        await e.locator("#message").press_sequentially("Driver is ", delay=20)
        await c.wait_for_timeout(1_500)
        await expect(c.locator("#typing")).to_have_text("")
        await e.fill("#message", "")
        await send(engineer, "Driver is the old PCL5 one – SECRET-NOTE-7731")
        note = message(e, "SECRET-NOTE-7731", "internal")
        await expect(note).to_have_count(1)
        await expect(note).to_contain_text("Internal note")
        await e.uncheck("#internal")
        await expect(e.locator("#composer")).to_have_attribute("data-mode", "public")
        await send(engineer, "Thanks for your patience – PUBLIC-AFTER-NOTE")
        # The later public message has arrived, so the note's absence means something.
        await expect(message(c, "PUBLIC-AFTER-NOTE", "public")).to_have_count(1)
        await expect(c.locator("#messages")).not_to_contain_text("SECRET-NOTE-7731")
        await expect(c.locator('#messages li[data-visibility="internal"]')).to_have_count(0)
        assert "SECRET-NOTE-7731" not in await c.content()

        # "I'm working on this" shows in the client's presence list, in words.
        await e.click("#working-toggle")
        await expect(e.locator("#working-toggle")).to_have_attribute("aria-pressed", "true")
        await expect(c.locator(f'#presence li[data-user-id="{engineer_id}"]')).to_have_attribute(
            "data-state", "working"
        )
        await expect(c.locator("#working-note")).to_have_text(
            f"{engineer_name} (Level 2) is working on your ticket"
        )

        # The engineer sets the status and the next update; the client's page follows.
        await expect(c.locator("#status")).to_have_text("New")
        due = (datetime.now() + timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0)
        await e.select_option("#status-select", "waiting_on_client")
        await e.fill("#next-update-input", due.strftime("%Y-%m-%dT%H:%M"))
        await e.click("#status-save")
        await expect(c.locator("#status")).to_have_text("Waiting on you")
        await expect(e.locator("#status")).to_have_text("Waiting on client")
        await expect(c.locator("#next-update")).to_contain_text("Next update by")
        await expect(c.locator("#next-update")).to_contain_text("(in 2 h")
        await expect(c.locator('#messages li[data-kind="status"]').last).to_contain_text(
            f"{engineer_name} set the status to Waiting on you"
        )
        await expect(e.locator("#status-note")).to_contain_text("Saved")

        await client.shot("ticket-client-desktop")
        await engineer.shot("ticket-engineer-desktop")

        # A reload brings the whole conversation back from the server, notes still staff-only.
        await c.reload()
        await expect(c.locator("#conn-state")).to_have_text(re.compile(r"^\s*Live\s*$"))
        await expect(message(c, "PUBLIC-AFTER-NOTE")).to_have_count(1)
        await expect(c.locator("#messages")).not_to_contain_text("SECRET-NOTE-7731")

        client.assert_clean()
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()


class Cable:
    """The page's WebSocket through Playwright, so a test can cut the connection and restore it."""

    def __init__(self) -> None:
        self.plugged = True
        self.open: list[tuple[Any, Any]] = []
        self.refused = 0

    async def attach(self, context: Any) -> None:
        await context.route_web_socket(re.compile(r"/ws(\?.*)?$"), self._route)

    async def _route(self, ws: Any) -> None:
        if not self.plugged:
            self.refused += 1
            await ws.close(code=1011, reason="network down (test)")
            return
        server = ws.connect_to_server()
        self.open.append((ws, server))

    async def unplug(self) -> None:
        self.plugged = False
        for ws, server in self.open:
            await server.close()
            await ws.close(code=1011, reason="network down (test)")
        self.open.clear()

    def plug(self) -> None:
        self.plugged = True


async def test_offline_message_waits_then_conflict_keeps_the_text(
    browser: Any, live_server: Any
) -> None:
    ticket = await live_server.new_ticket("Mail stuck in the outbox", "Nothing leaves my outbox.")
    client = await log_in(browser, live_server, "client")
    engineer = await log_in(browser, live_server, "engineer")
    cable = Cable()
    await cable.attach(client.context)
    try:
        c, e = client.page, engineer.page
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)
        await expect(c.locator("#viewer-count")).to_have_text("2 viewing")

        # The client loses the connection: the page says it will try again, and when.
        await cable.unplug()
        await expect(c.locator("#conn-state")).to_contain_text(
            re.compile(r"Reconnecting in \d+ s…")
        )
        await expect(c.locator("#conn-state")).to_have_attribute("data-state", "reconnecting")
        # The engineer sees the client leave.
        await expect(e.locator("#viewer-count")).to_have_text("1 viewing")

        # The client writes anyway: the message waits, and the page says so.
        await send_later(client, "Here is the error text: 0x800CCC0F")
        await expect(c.locator("#conn-state")).to_contain_text(
            "Offline – your message will be sent when we reconnect"
        )

        # Meanwhile the engineer writes: when the client is back, theirs was written without seeing it.
        await send(engineer, "Could you send me the exact error text?")
        await expect(c.locator("#conn-state")).to_contain_text(
            re.compile(r"Reconnecting in \d+ s…")
        )
        cable.plug()
        await c.click("#conn-retry")
        await expect(c.locator("#conn-state")).to_have_text(
            re.compile(r"^\s*Live\s*$"), timeout=40_000
        )
        await expect(message(c, "Could you send me the exact error text?")).to_have_count(1)

        # A conflict: the server's refusal is shown and nothing typed is lost.
        await expect(c.locator("#composer-error")).to_contain_text(
            "New messages arrived while you were writing"
        )
        await expect(c.locator("#message")).to_have_value("Here is the error text: 0x800CCC0F")
        await expect(message(c, "0x800CCC0F")).to_have_count(0)
        await c.click("#send-anyway")
        await expect(message(c, "0x800CCC0F")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
        await expect(message(e, "0x800CCC0F", "public")).to_have_count(1)
        await expect(c.locator("#composer-error")).to_be_hidden()

        # An empty message is refused in the page itself.
        await c.click("#send")
        await expect(c.locator("#composer-error")).to_contain_text("Write a message first.")

        client.assert_clean()
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()


async def send_later(person: Person, text: str) -> None:
    """Send while offline: the message shows as "Sending…" and the composer is free again."""
    page = person.page
    await page.fill("#message", text)
    await page.click("#send")
    pending = message(page, text)
    await expect(pending).to_have_count(1)
    await expect(pending).to_contain_text("Sending…")
    await expect(page.locator("#message")).to_have_value("")


@pytest.mark.parametrize("who", ["client", "engineer"])
async def test_ticket_page_fits_a_phone(browser: Any, live_server: Any, who: str) -> None:
    long_word = "https://example.com/" + "x" * 160
    ticket = await live_server.new_ticket(
        "A rather long subject line about the VPN dropping every few minutes at the branch office",
        f"It drops every 5 minutes. Log: {long_word}",
    )
    person = await log_in(browser, live_server, who, PHONE)
    try:
        page = person.page
        await person.open_ticket(live_server.url, ticket)
        await expect(message(page, "It drops every 5 minutes.")).to_have_count(1)
        width = await page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 375, f"the ticket page is {width}px wide on a 375px phone"
        # Tap targets: every button and the composer's controls are at least 44px tall.
        small = await page.evaluate(
            """() => [...document.querySelectorAll('button, .button, #message, select, input:not([type=hidden]), .main-nav a')]
                 .filter((el) => el.offsetParent !== null)
                 .filter((el) => { const r = el.getBoundingClientRect();
                                   const target = el.type === 'checkbox' ? el.closest('span') || el : el;
                                   return target.getBoundingClientRect().height < 44; })
                 .map((el) => el.id || el.className || el.tagName)"""
        )
        assert not small, f"tap targets under 44px: {small}"
        await person.shot(f"ticket-{who}-phone")
        person.assert_clean()
    finally:
        await person.context.close()


async def test_plain_pages(browser: Any, live_server: Any) -> None:
    """Login errors keep the e-mail, the list links to tickets, a new ticket opens on its live page."""
    context = await browser.new_context(**DESKTOP)
    page = await context.new_page()
    visitor = Person(context, page)
    try:
        email, _ = live_server.users["client"]
        await page.goto(f"{live_server.url}/login")
        await page.fill("#email", email)
        await page.fill("#password", "not the password")
        await page.click("#login-submit")
        await expect(page.locator(".form-error[role=alert]")).to_be_visible()
        await expect(page.locator("#email")).to_have_value(email)
        await expect(page.locator("a[href^='/feedback']")).to_have_text("Give us feedback")
        # The refused login is answered with a 4xx status, which the console reports.
        visitor.assert_clean(allow=("status of 401", "status of 400", "status of 403"))
    finally:
        await context.close()

    client = await log_in(browser, live_server, "client", next_path="/tickets/new")
    try:
        page = client.page
        await expect(page.locator("#priority")).to_have_value("normal")
        await page.fill("#subject", "Scanner e-mails never arrive")
        await page.fill("#body", "The scanner's scan-to-mail stopped on Monday.")
        await page.select_option("#priority", "high")
        await page.click("#create-ticket")
        await page.wait_for_url(re.compile(r"/tickets/\d+$"))
        await expect(page.locator("#ticket-subject")).to_have_text("Scanner e-mails never arrive")
        await expect(page.locator("#conn-state")).to_have_text(re.compile(r"^\s*Live\s*$"))
        await expect(message(page, "scan-to-mail stopped on Monday")).to_have_count(1)
        await expect(page.locator("#next-update")).to_have_text(
            re.compile(r"^(Next update by .+|No update scheduled|Next update overdue)$")
        )
        ticket_id = int(page.url.rsplit("/", 1)[1])

        await page.locator(".main-nav").get_by_role("link", name="Tickets", exact=True).click()
        row = page.locator(f'[data-ticket-id="{ticket_id}"]')
        await expect(row).to_contain_text("Scanner e-mails never arrive")
        await expect(row.locator(".status")).to_have_text("New")
        await expect(row.locator(f'a[href="/tickets/{ticket_id}"]')).to_have_count(1)
        await client.shot("tickets-client")
        client.assert_clean()
    finally:
        await client.context.close()


async def test_session_end_is_said_plainly_and_the_draft_survives(
    browser: Any, live_server: Any
) -> None:
    ticket = await live_server.new_ticket(
        "Calendar not syncing", "My phone calendar stopped syncing."
    )
    client = await log_in(browser, live_server, "client")
    cable = Cable()
    await cable.attach(client.context)
    try:
        page = client.page
        await client.open_ticket(live_server.url, ticket)
        await page.locator("#message").press_sequentially("Half-written reply", delay=10)

        # Logged out in another tab: the next connection is refused (4401) and the page says why.
        other = await client.context.new_page()
        await other.goto(f"{live_server.url}/tickets")
        await other.click("#logout")
        await other.wait_for_url(re.compile(r"/login"))
        await other.close()
        await cable.unplug()
        cable.plug()
        await expect(page.locator("#conn-state")).to_have_text(
            "Your session has ended – please log in again", timeout=20_000
        )
        await expect(page.locator("#conn-state")).to_have_attribute("data-state", "ended")
        await expect(page.locator("#message")).to_have_value("Half-written reply")

        # Logging in again from the banner comes back to the ticket with the draft still there.
        await page.click("#conn-login")
        await page.wait_for_url(re.compile(r"/login\?next="))
        email, password = live_server.users["client"]
        await page.fill("#email", email)
        await page.fill("#password", password)
        await page.click("#login-submit")
        await page.wait_for_url(re.compile(rf"/tickets/{ticket}$"))
        await expect(page.locator("#conn-state")).to_have_text(re.compile(r"^\s*Live\s*$"))
        await expect(page.locator("#message")).to_have_value("Half-written reply")
        client.assert_clean()
    finally:
        await client.context.close()
