"""The next-update promise counts down in a real browser and turns overdue the moment it passes.

The client's page runs on Playwright's clock, so the test moves its time on instead of waiting ten minutes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from tests.browser.helpers import LIVE, expect, log_in, send


async def test_the_next_update_counts_down_and_turns_overdue(
    browser: Any, live_server: Any
) -> None:
    ticket = await live_server.new_ticket("Shared drive is slow", "Opening files takes a minute.")
    client = await log_in(browser, live_server, "client")
    engineer = await log_in(browser, live_server, "engineer")
    try:
        c, e = client.page, engineer.page
        await c.clock.install()
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)

        # A new ticket's promise comes from the service level target.
        await expect(c.locator("#next-update")).to_contain_text("Next update by")
        await expect(c.locator("#next-update-source")).to_have_text("(service level target)")

        # The engineer promises an update in ten minutes.
        due = (datetime.now() + timedelta(minutes=10)).replace(second=0, microsecond=0)
        await e.select_option("#status-select", "in_progress")
        await e.fill("#next-update-input", due.strftime("%Y-%m-%dT%H:%M"))
        await e.click("#status-save")
        await expect(e.locator("#status-note")).to_contain_text("Saved")

        pill = c.locator("#next-update-pill")
        await expect(c.locator("#next-update")).to_have_text(
            re.compile(r"^Next update by .+ \(in (9|10) min\)$")
        )
        await expect(c.locator("#next-update-source")).to_have_text("(set by staff)")
        await expect(pill).not_to_have_attribute("data-state", "overdue")

        # Five minutes on, it says so without a reload.
        await c.clock.fast_forward("05:00")
        await expect(c.locator("#next-update")).to_have_text(re.compile(r"\(in (4|5) min\)$"))
        await expect(pill).to_have_attribute("data-state", "soon")

        # Past the promise: overdue, and it says when it was due.
        await c.clock.fast_forward("06:00")
        await expect(c.locator("#next-update")).to_have_text("Next update overdue")
        await expect(pill).to_have_attribute("data-state", "overdue")
        await expect(c.locator("#next-update-source")).to_have_text(
            re.compile(r"^\(was due .+, set by staff\)$")
        )
        await client.shot("sla-overdue-client")

        # A time already past shows overdue at once, on both sides.
        past = (datetime.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)
        await e.fill("#next-update-input", past.strftime("%Y-%m-%dT%H:%M"))
        await e.click("#status-save")
        await expect(e.locator("#next-update")).to_have_text("Next update overdue")
        await expect(e.locator("#next-update-pill")).to_have_attribute("data-state", "overdue")
        await c.reload()
        await expect(c.locator("#conn-state")).to_have_text(LIVE)
        await expect(c.locator("#next-update")).to_have_text("Next update overdue")

        # A public reply from staff restarts the clock from the service level target, live.
        await send(engineer, "I am looking at the file server now.")
        await expect(c.locator("#next-update-source")).to_have_text("(service level target)")
        await expect(c.locator("#next-update")).to_have_text(re.compile(r"^Next update by .+ \(in .+\)$"))
        await expect(e.locator("#next-update-source")).to_have_text("(service level target)")

        client.assert_clean()
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()
