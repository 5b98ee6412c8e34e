"""The ticket list in a real browser: counters and rows change while others act, without a reload.

Staff watch the queue, the client watches their organisation. The client opens a ticket: it appears on
top of the staff's list and the Open count goes up. Sam works on it and sets it waiting on the client: the
staff row shows him at work and the new status, the client's "Waiting on you" goes up.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import LIVE, PHONE, act, acting_as, expect, fits_the_phone, log_in, user


async def count(page: Any, key: str) -> int:
    locator = page.locator(f"#count-{key}")
    await expect(locator).to_have_text(re.compile(r"^\d+$"))
    return int(await locator.text_content())


async def test_counters_and_rows_follow_what_others_do(browser: Any, live_server: Any) -> None:
    staff = await log_in(browser, live_server, "engineer")
    client = await log_in(browser, live_server, "client", PHONE)
    try:
        s, c = staff.page, client.page
        for page in (s, c):
            await expect(page.locator("#list-conn")).to_have_text(LIVE)
        for key in ("open", "unreviewed", "overdue", "unassigned", "mine"):
            await expect(s.locator(f"#count-{key}")).to_have_text(re.compile(r"^\d+$"))
        for key in ("open", "unreviewed", "waiting_on_you", "overdue"):
            await expect(c.locator(f"#count-{key}")).to_have_text(re.compile(r"^\d+$"))
        open_before = await count(s, "open")
        unassigned_before = await count(s, "unassigned")
        client_open_before = await count(c, "open")

        # The client opens a ticket (elsewhere): it is on top of both lists, counted, new to the staff.
        ticket = await live_server.new_ticket("Badge reader rejects everyone", "Nobody can get in.")
        row = s.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
        await expect(row).to_contain_text("Badge reader rejects everyone")
        await expect(s.locator("#ticket-list > li").first).to_have_attribute(
            "data-ticket-id", str(ticket)
        )
        await expect(s.locator("#count-open")).to_have_text(str(open_before + 1))
        await expect(s.locator("#count-unassigned")).to_have_text(str(unassigned_before + 1))
        await expect(row.locator(".status")).to_have_text("New")
        await expect(row.locator(".new-marker")).to_have_text("New to you")
        await expect(row.locator(".ticket-assignees")).to_have_text("Not assigned yet")
        await expect(c.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')).to_contain_text(
            "Badge reader rejects everyone"
        )
        await expect(c.locator("#count-open")).to_have_text(str(client_open_before + 1))

        # Sam works on it: the staff's row shows who is on it, in words for screen readers too.
        async with acting_as(live_server, "engineer2") as sam:
            joined = await sam.join(f"ticket:{ticket}")
            assert joined["type"] == "joined", joined
            await sam.send({"type": "activity", "topic": f"ticket:{ticket}", "state": "working"})
            await expect(row.locator(".ticket-people")).to_contain_text("Sam Senior, working on it")
            waiting_before = await count(c, "waiting_on_you")
            reply = await sam.request(
                {"type": "status", "topic": f"ticket:{ticket}", "status": "waiting_on_client"}
            )
            assert reply["ok"] is True, reply
            await expect(row.locator(".status")).to_have_text("Waiting on client")
            client_row = c.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
            await expect(client_row.locator(".status")).to_have_text("Waiting on you")
            await expect(c.locator("#count-waiting_on_you")).to_have_text(str(waiting_before + 1))

            sam_id = user(live_server, "engineer2")["id"]
            reply = await sam.request(
                {"type": "assign", "topic": f"ticket:{ticket}", "assignees": [sam_id]}
            )
            assert reply["ok"] is True, reply
            await expect(row.locator(".ticket-assignees")).to_have_text("Assigned to Sam Senior")
            await expect(s.locator("#count-unassigned")).to_have_text(str(unassigned_before))
        await expect(row.locator(".ticket-people")).to_be_hidden()

        # Opening the ticket reviews it: back on the list, it is no longer new to this engineer.
        await staff.open_ticket(live_server.url, ticket)
        await s.go_back()
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        await expect(
            s.locator(f'#ticket-list > li[data-ticket-id="{ticket}"] .new-marker')
        ).to_have_count(0)

        await staff.shot("list-staff")
        await client.shot("list-client-phone")
        await fits_the_phone(c)
        staff.assert_clean()
        client.assert_clean()
    finally:
        await staff.context.close()
        await client.context.close()


async def test_reading_the_ticket_clears_new_to_you(browser: Any, live_server: Any) -> None:
    """Joining reviews a ticket, and `seen` from the open ticket page keeps it reviewed as messages come."""
    ticket = await live_server.new_ticket("Printer jams on tray 2", "Tray 2 jams every time.")
    staff = await log_in(browser, live_server, "engineer")
    try:
        s = staff.page
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        row = s.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
        await expect(row.locator(".new-marker")).to_have_text("New to you")

        # Opened in a second tab: reviewed, and the list in the first tab says so at once.
        reader = await staff.context.new_page()
        await reader.goto(f"{live_server.url}/tickets/{ticket}")
        await expect(reader.locator("#conn-state")).to_have_text(LIVE)
        await expect(row.locator(".new-marker")).to_have_count(0)

        # The client writes while the ticket is open: the page reads it, so it does not stay new.
        await act(
            live_server,
            "client",
            {"type": "chat", "topic": f"ticket:{ticket}", "body": "It jams again."},
        )
        await expect(
            reader.locator("#messages li.msg").filter(has_text="It jams again.")
        ).to_have_count(1)
        await expect(row.locator(".new-marker")).to_have_count(0, timeout=6_000)
        await s.wait_for_timeout(2_500)
        await expect(row.locator(".new-marker")).to_have_count(0)

        # With the ticket closed, the next message is new to this engineer again.
        await reader.close()
        await act(
            live_server,
            "client",
            {"type": "chat", "topic": f"ticket:{ticket}", "body": "Still jamming."},
        )
        await expect(row.locator(".new-marker")).to_have_text("New to you")
        staff.assert_clean()
    finally:
        await staff.context.close()
