"""The ticket list's filters, saved views and live views in a real browser.

An engineer opens the Unassigned counter, narrows it to triage, steps back with the back button, and saves
the view. While it is open, a ticket set to triage by a colleague enters it, and leaves when it is assigned.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import LIVE, PHONE, act, expect, fits_the_phone, log_in, user

DESKTOP = {"viewport": {"width": 1366, "height": 900}}


async def test_filters_back_button_saved_view_and_a_live_view(browser: Any, live_server: Any) -> None:
    staff = await log_in(browser, live_server, "engineer", DESKTOP)
    try:
        s = staff.page
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        # A counter opens its list.
        await s.click("#counter-link-unassigned")
        await s.wait_for_url(re.compile(r"assignee=none"))
        await expect(s.locator("#filter-assignee")).to_have_value("none")
        await expect(s.locator("#counter-link-unassigned")).to_have_attribute("aria-current", "page")
        # A choice applies at once and goes in the URL; the back button undoes it.
        for status in ("new", "in_progress", "waiting_on_client"):
            await s.locator(f'input[name="status"][value="{status}"]').uncheck()
            await s.wait_for_load_state()
        await expect(s.locator('input[name="status"][value="triage"]')).to_be_checked()
        assert "status=triage" in s.url and "status=new" not in s.url
        await s.select_option("#filter-sort", "created")
        await s.wait_for_url(re.compile(r"sort=created"))
        await s.go_back()
        await s.wait_for_url(lambda url: "sort=created" not in url and "status=triage" in url)
        await expect(s.locator("#filter-sort")).to_have_value("")
        await expect(s.locator("#list-conn")).to_have_text(LIVE)

        # A ticket enters the open view when it starts to match, and leaves when it stops.
        ticket = await live_server.new_ticket("Projector shows no signal")
        row = s.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
        await act(live_server, "engineer2", {"type": "status", "topic": f"ticket:{ticket}", "status": "triage"})
        await expect(row).to_contain_text("Projector shows no signal")
        await expect(row.locator(".status")).to_have_text("Triage")
        await act(live_server, "engineer2", {"type": "status", "topic": f"ticket:{ticket}", "status": "in_progress"})
        await expect(row).to_have_count(0)
        await act(live_server, "engineer2", {"type": "status", "topic": f"ticket:{ticket}", "status": "triage"})
        await expect(row).to_have_count(1)
        sam = user(live_server, "engineer2")["id"]
        await act(live_server, "engineer2", {"type": "assign", "topic": f"ticket:{ticket}", "assignees": [sam]})
        await expect(row).to_have_count(0)

        # Save this view: it opens under its name and stays in the views bar.
        await s.click("#save-view > summary")
        await s.fill("#view-name", "Triage, nobody on it")
        await s.click("#view-save")
        await s.wait_for_url(re.compile(r"view=\d+"))
        await expect(s.locator("#view-saved")).to_have_text("View saved.")
        await expect(s.locator('.view-chip[aria-current="page"]')).to_have_text("Triage, nobody on it")
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        await s.screenshot(path="/work/shots/views/list-view-desktop.png", full_page=True)
        staff.assert_clean()
    finally:
        await staff.context.close()


async def test_the_filters_fold_on_a_phone(browser: Any, live_server: Any) -> None:
    client = await log_in(browser, live_server, "client", PHONE)
    try:
        c = client.page
        await c.set_viewport_size({"width": 390, "height": 844})
        await c.reload()
        await expect(c.locator("#list-conn")).to_have_text(LIVE)
        await expect(c.locator("#filter-panel")).not_to_have_attribute("open", "")
        await c.screenshot(path="/work/shots/views/list-client-phone.png", full_page=True)
        await c.click("#filter-panel > summary")
        await expect(c.locator("#filter-waiting")).to_be_visible()
        await c.screenshot(path="/work/shots/views/list-client-phone-filters.png", full_page=True)
        await c.click("#counter-link-waiting_on_you")
        await c.wait_for_url(re.compile(r"waiting_on=client"))
        await expect(c.locator("#filter-waiting")).to_have_value("client")
        await c.set_viewport_size({"width": 375, "height": 740})
        await c.click("#filter-panel > summary")
        await fits_the_phone(c)
        client.assert_clean()
    finally:
        await client.context.close()


async def test_a_live_view_across_two_processes(browser: Any, sqlite_deployment: Any,
                                                redis_url: tuple[str, str]) -> None:
    """The browser watches a filtered view on one server; the ticket changes on the other."""
    from tests.conftest import LiveServer
    from tests.realtime.helpers import open_ticket, server_pair
    from tests.web.test_macros_api import call

    d = sqlite_deployment
    async with server_pair(d, redis_url) as (a, b):
        watcher = LiveServer(a.url, {k: (v["email"], v["password"]) for k, v in d.users.items()}, a, d)
        staff = await log_in(browser, watcher, "engineer", DESKTOP, next_path="/tickets?priority=high")
        try:
            s = staff.page
            await expect(s.locator("#list-conn")).to_have_text(LIVE)
            ticket = await open_ticket(b, d, "Label printer prints blank labels")
            row = s.locator(f'#ticket-list > li[data-ticket-id="{ticket}"]')
            for priority, count in (("high", 1), ("low", 0), ("high", 1)):
                r = await call(b, d, "engineer2", "POST", "/api/tickets/bulk", {"ids": [ticket], "priority": priority})
                assert r.json()["updated"] == [ticket], r.text
                await expect(row).to_have_count(count)
            await expect(row.locator(".priority")).to_contain_text("High")
            staff.assert_clean()
        finally:
            await staff.context.close()


async def test_searching_from_the_box_and_a_match_arriving_live(browser: Any, live_server: Any) -> None:
    """The search box puts q in the URL and shows each match's passage; a ticket that starts to match while the
    search is open comes in (the page cannot judge words itself, so it asks the server again)."""
    import secrets

    word = "zq" + secrets.token_hex(3)
    first = await live_server.new_ticket(f"Badge reader {word} broken")
    staff = await log_in(browser, live_server, "engineer", DESKTOP)
    try:
        s = staff.page
        await s.fill("#filter-q", word)
        await s.press("#filter-q", "Enter")
        await s.wait_for_url(re.compile(rf"q={word}"))
        rows = s.locator("#ticket-list > li")
        await expect(rows).to_have_count(1)
        await expect(rows.first.locator(".ticket-snippet mark")).to_have_text(re.compile(word, re.I))
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        later = await live_server.new_ticket(f"Second reader {word}")
        await expect(s.locator(f'#ticket-list > li[data-ticket-id="{later}"]')).to_have_count(1)
        await expect(s.locator(f'#ticket-list > li[data-ticket-id="{first}"]')).to_have_count(1)
        await s.screenshot(path="/work/shots/views/search-desktop.png")
        staff.assert_clean()
    finally:
        await staff.context.close()
