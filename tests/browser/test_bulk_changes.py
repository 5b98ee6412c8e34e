"""The ticket list's bulk bar in a real browser: staff tick tickets and change them at once; rows follow live.

The client sees none of it. A refusal the server gives for one ticket is shown in plain words beside the rest
being done (the request is widened in flight with a ticket that does not exist; the server's answer is real).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.browser.helpers import LIVE, PHONE, expect, fits_the_phone, log_in

WIDE = {"viewport": {"width": 1366, "height": 900}}
NARROW = {**PHONE, "viewport": {"width": 390, "height": 844}}
GONE = 2**31 - 2


async def test_staff_change_several_tickets_at_once(browser: Any, live_server: Any) -> None:
    ids = [await live_server.new_ticket(f"Bulk printer {n}", "It jams.") for n in range(3)]
    staff = await log_in(browser, live_server, "engineer2", WIDE)
    client = await log_in(browser, live_server, "client", NARROW)
    try:
        s, c = staff.page, client.page
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        await expect(c.locator("#list-conn")).to_have_text(LIVE)
        # Clients have no checkboxes and no bar.
        assert await c.locator("#bulk-bar, input[data-bulk-pick]").count() == 0

        bar = s.locator("#bulk-bar")
        await expect(bar).to_be_visible()
        await expect(s.locator("#bulk-form")).to_be_hidden()
        rows = [s.locator(f'#ticket-list > li[data-ticket-id="{t}"]') for t in ids]
        await rows[0].locator("input[data-bulk-pick]").check()
        await rows[1].get_by_label(re.compile(r"Select ticket")).check()
        await expect(s.locator("#bulk-count")).to_have_text("2 tickets selected")
        await expect(s.locator("#bulk-apply")).to_have_text("Apply to 2 tickets")
        await s.select_option("#bulk-status", "in_progress")
        await s.select_option("#bulk-priority", "high")
        await expect(s.locator("#bulk-assign option", has_text="Dana Engineer")).to_have_count(1)
        await s.select_option("#bulk-assign", label="Dana Engineer (Level 2)")
        await staff.shot("bulk-desktop-picking")

        async def widen(route: Any) -> None:
            body = json.loads(route.request.post_data)
            body["ids"].append(GONE)
            await route.continue_(post_data=json.dumps(body))

        await s.route("**/api/tickets/bulk", widen)
        await s.click("#bulk-apply")
        result = s.locator("#bulk-result")
        await expect(result).to_contain_text("2 tickets changed (priority high, status “In progress”, assigned "
                                             "Dana Engineer (Level 2))")
        await expect(result).to_contain_text("1 ticket was not changed")
        await expect(result.locator(".bulk-refusals li")).to_have_text(f"#{GONE}: You cannot open that ticket.")
        await s.unroute("**/api/tickets/bulk")
        # The rows change live, from the list's own events; the changed ones are no longer ticked.
        for row in rows[:2]:
            await expect(row.locator(".status")).to_have_text("In progress")
            await expect(row.locator(".priority")).to_contain_text("High")
            await expect(row.locator(".ticket-assignees")).to_have_text("Assigned to Dana Engineer")
            await expect(row.locator("input[data-bulk-pick]")).not_to_be_checked()
        await expect(rows[2].locator(".status")).to_have_text("New")
        await expect(s.locator("#bulk-form")).to_be_hidden()
        await staff.shot("bulk-desktop-done")

        # Select all on the page ticks every row; the client's own list moved live too.
        await s.check("#bulk-all")
        total = await s.locator("#ticket-list > li[data-ticket-id]").count()
        await expect(s.locator("#bulk-count")).to_have_text(f"{total} tickets selected")
        await expect(c.locator(f'#ticket-list > li[data-ticket-id="{ids[0]}"] .status')).to_have_text("In progress")
        await s.click("#bulk-clear")
        await expect(s.locator("#bulk-count")).to_have_text("Select tickets to change several at once.")
        staff.assert_clean()
        client.assert_clean()
    finally:
        await staff.context.close()
        await client.context.close()


async def test_the_bulk_bar_works_on_a_phone(browser: Any, live_server: Any) -> None:
    ticket = await live_server.new_ticket("Phone bulk", "From a phone.")
    staff = await log_in(browser, live_server, "engineer", PHONE)
    try:
        p = staff.page
        await expect(p.locator("#list-conn")).to_have_text(LIVE)
        row = p.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
        await row.locator(".bulk-pick").tap()
        await expect(p.locator("#bulk-count")).to_have_text("1 ticket selected")
        assert p.url.endswith("/tickets")  # the tap ticked the box; it did not open the ticket
        await p.select_option("#bulk-priority", "urgent")
        await staff.shot("bulk-phone-picking")
        await fits_the_phone(p)
        await p.locator("#bulk-apply").tap()
        await expect(p.locator("#bulk-result")).to_contain_text("Done: 1 ticket changed (priority urgent)")
        await expect(row.locator(".priority")).to_contain_text("Urgent")
        staff.assert_clean()
    finally:
        await staff.context.close()


async def test_a_priority_change_shows_live_on_the_ticket_page(browser: Any, live_server: Any) -> None:
    import httpx

    from tests.browser.helpers import token

    ticket = await live_server.new_ticket("Priority live", "Watch the badge.")
    client = await log_in(browser, live_server, "client", WIDE)
    try:
        await client.open_ticket(live_server.url, ticket)
        # Canned replies are staff's: a client's composer has no picker and loads none of it.
        assert await client.page.locator("[data-macros], .macro-open, script[src$='macros.js']").count() == 0
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            r = await http.post("/api/tickets/bulk", json={"ids": [ticket], "priority": "urgent"},
                                headers={"Authorization": f"Bearer {await token(live_server, 'engineer')}"})
        assert r.json()["updated"] == [ticket], r.text
        page = client.page
        await expect(page.locator("#messages li.system-priority")).to_have_text(
            re.compile(r"Dana Engineer set the priority to Urgent\."))
        await expect(page.locator(".badge.priority").first).to_contain_text("Urgent")
        client.assert_clean()
    finally:
        await client.context.close()
