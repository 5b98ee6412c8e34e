"""Personal notices in a real browser: an engineer pulled into a ticket hears of it on whatever page is open.

Sam (Level 3) invites Dana (Level 2) from the ticket page while Dana looks at the ticket list: Dana gets
one popup that links to the ticket. On the ticket page itself (whose socket the notices share), Sam then
assigns Dana: exactly one popup again. The client watching sees who joined, never the staff's message.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import LIVE, expect, log_in, message, more_action, user


async def test_an_invitation_pops_up_and_leads_to_the_ticket(
    browser: Any, live_server: Any
) -> None:
    ticket = await live_server.new_ticket("VPN drops every few minutes", "The VPN keeps dropping.")
    dana = user(live_server, "engineer")
    sam = await log_in(browser, live_server, "engineer2")
    invitee = await log_in(browser, live_server, "engineer")  # stays on the ticket list
    client = await log_in(browser, live_server, "client")
    try:
        s, d, c = sam.page, invitee.page, client.page
        await expect(d.locator("#list-conn")).to_have_text(LIVE)
        await sam.open_ticket(live_server.url, ticket)
        await client.open_ticket(live_server.url, ticket)

        # Sam invites Dana, with a word on why.
        await more_action(s, "open-invite")
        await s.select_option("#invite-user", str(dana["id"]))
        await s.fill("#invite-message", "Can you check the firewall logs? HUDDLE-MSG-5521")
        await s.click("#invite-send")
        await expect(s.locator("#invite-note")).to_contain_text("Invited")
        line = s.locator('#messages li[data-kind="member"]')
        await expect(line).to_contain_text("Dana Engineer (Level 2) joined the huddle")
        await expect(line).to_contain_text("HUDDLE-MSG-5521")
        await expect(s.locator("#huddle-members")).to_contain_text("Dana Engineer")
        await s.click("#invite-dialog [data-close]")

        # Dana, on the list, gets one popup that says who, what and where, and links there.
        notice = d.locator("#notices .notice")
        await expect(notice).to_have_count(1)
        await expect(notice).to_have_attribute("role", "alert")
        await expect(notice).to_contain_text(
            f"Sam Senior (Level 3) invited you to #{ticket} VPN drops every few minutes"
        )
        await expect(notice).to_contain_text("HUDDLE-MSG-5521")
        await invitee.shot("notice-on-list")
        await notice.locator("a.notice-link").click()
        await d.wait_for_url(re.compile(rf"/tickets/{ticket}$"))
        await expect(d.locator("#conn-state")).to_have_text(LIVE)
        await expect(d.locator("#huddle-members")).to_contain_text("Dana Engineer")
        await expect(d.locator("#notices .notice")).to_have_count(0)

        # The client sees who joined, not why.
        await expect(c.locator('#messages li[data-kind="member"]')).to_contain_text(
            "Dana Engineer (Level 2) joined the team on your ticket"
        )
        await expect(c.locator("#huddle-members")).to_contain_text("Dana Engineer")

        # Sam assigns Dana from the header: on the ticket page, one popup, and the header follows for all.
        await s.click("#assign-toggle")
        await s.locator(f'#assign-options input[value="{dana["id"]}"]').check()
        await s.click("#assign-save")
        await expect(s.locator("#assign-form")).to_be_hidden()
        for page in (s, d, c):
            await expect(page.locator("#assignees")).to_contain_text("Dana Engineer")
        await expect(c.locator('#messages li[data-kind="assignment"]')).to_contain_text(
            "Sam Senior assigned Dana Engineer"
        )
        assigned = d.locator('#notices .notice[data-kind="assigned"]')
        await expect(assigned).to_have_count(1)
        await expect(assigned).to_contain_text(f"Sam Senior (Level 3) assigned you to #{ticket}")
        await d.wait_for_timeout(1_500)
        await expect(d.locator("#notices .notice")).to_have_count(1)

        # Dismissed, it is gone.
        await assigned.get_by_role("button", name="Dismiss this notice").click()
        await expect(d.locator("#notices .notice")).to_have_count(0)

        await expect(message(c, "HUDDLE-MSG-5521")).to_have_count(0)
        assert "HUDDLE-MSG-5521" not in await c.content()
        for person in (sam, invitee, client):
            person.assert_clean()
    finally:
        for person in (sam, invitee, client):
            await person.context.close()
