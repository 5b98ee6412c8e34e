"""The client's ticket page: "Mark solved", "Reopen", "How did we do?", and the follow-up with attachments, on a
desktop and on a phone; staff see the rating live."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.helpers import PHONE, expect, log_in

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {**PHONE, "viewport": {"width": 390, "height": 844}}


@pytest.mark.parametrize("screen", ["desktop", "phone"])
async def test_client_solves_rates_and_reopens(browser: Any, live_server: Any, screen: str) -> None:
    ticket = await live_server.new_ticket(f"Scanner offline ({screen})", "It stopped after the update.")
    client = await log_in(browser, live_server, "client", DESKTOP if screen == "desktop" else PHONE)
    engineer = await log_in(browser, live_server, "engineer")
    try:
        c, e = client.page, engineer.page
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)
        await expect(c.locator("#mark-solved")).to_be_visible()
        await expect(c.locator("#rating-form")).to_have_count(0)  # asked only once it is solved
        await client.shot(f"outcomes-{screen}-open")

        await c.click("#mark-solved")
        await expect(c.locator("#outcome-message")).to_have_text("Marked solved. Thank you!")
        await expect(c.locator("#status")).to_have_text(re.compile("Solved|Resolved", re.I))
        await expect(c.locator("#reopen")).to_be_visible()
        await expect(c.locator("#outcome-state")).to_contain_text("You can reopen it until")
        await expect(e.locator("#status")).to_have_text(re.compile("Resolved|Solved", re.I))  # live for staff

        await c.click("#rate-bad")
        await c.fill("#rating-comment", "It took three days.")
        await c.click("#rating-send")
        await expect(c.locator("#outcome-message")).to_have_text("Thank you: we recorded your answer.")
        await expect(c.locator("#rating-current")).to_contain_text("Your answer: Bad")
        await expect(e.locator("#rating-staff")).to_contain_text("Rated Bad")  # live, staff-visible
        await expect(e.locator("#rating-staff")).to_contain_text("It took three days.")
        await client.shot(f"outcomes-{screen}-rated")
        await engineer.shot(f"outcomes-{screen}-staff-rating")

        await c.click("#rate-good")
        await c.click("#rating-send")
        await expect(c.locator("#rating-current")).to_contain_text("Your answer: Good")
        await expect(e.locator("#rating-staff")).to_contain_text("Rated Good")

        await c.click("#reopen")
        await expect(c.locator("#outcome-message")).to_have_text("Reopened: the team is on it again.")
        await expect(c.locator("#mark-solved")).to_be_visible()
        await expect(c.locator("#rating-form")).to_have_count(0)
        client.assert_clean()
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()


async def test_closed_ticket_offers_a_follow_up_with_files(browser: Any, live_server: Any, tmp_path: Any) -> None:
    ticket = await live_server.new_ticket("Backup failed", "Last night's backup did not run.")
    engineer = await log_in(browser, live_server, "engineer")
    client = await log_in(browser, live_server, "client", PHONE)
    try:
        e, c = engineer.page, client.page
        await engineer.open_ticket(live_server.url, ticket)
        await e.select_option("#status-select", "closed")
        await e.click("#status-save")
        await expect(e.locator("#status-note")).to_contain_text("Saved")
        await client.open_ticket(live_server.url, ticket)
        await expect(c.locator("#outcome-state")).to_contain_text("This ticket is closed.")
        await client.shot("outcomes-phone-closed")
        await c.click("#follow-up")
        await expect(c.locator("#follows-up-note")).to_contain_text(f"#{ticket} Backup failed")
        shot = tmp_path / "log.txt"
        shot.write_text("backup: error 42\n")
        await c.fill("#subject", "Backup failed again")
        await c.fill("#body", "Same error tonight.")
        await c.set_input_files("#files", str(shot))
        await client.shot("outcomes-phone-follow-up-form")
        await c.click("#create-ticket")
        await c.wait_for_url(re.compile(r"/tickets/[0-9]+$"))
        await expect(c.locator("#outcome-links")).to_contain_text(f"Follows up #{ticket} Backup failed")
        await expect(c.locator("#messages")).to_contain_text("log.txt")
        await client.open_ticket(live_server.url, ticket)
        await expect(c.locator("#outcome-links")).to_contain_text("Followed up by")
        client.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()
