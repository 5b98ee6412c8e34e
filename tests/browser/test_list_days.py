"""The ticket list's "Updated from / to" days in a real browser: set on a laptop and on a phone, read on the
person's own clock (the browser's zone, which the list page reports), kept in the URL, the back button and a
saved view; a row that stops matching leaves the live list; a bad range is said on the page.

The tickets are those of tests/web/test_list_days.py: changed at chosen instants of November 2018.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import select

from livesupport.store.database import Database
from livesupport.store.models import User
from tests.browser.helpers import LIVE, Person, act, expect, fits_the_phone, log_in
from tests.browser.test_ticket_list_badges import DESKTOP_1366, PHONE_390
from tests.conftest import PASSWORD, new_person
from tests.web.test_list_days import Week, make_week

RANGE = re.compile(r"updated_from=2018-11-06&updated_to=2018-11-08")


async def week_of(live_server: Any) -> Week:
    d = live_server._deployment
    w = await make_week(d.database_url, d)
    live_server.users[w.client] = (d.users[w.client]["email"], PASSWORD)
    return w


async def zone_stored(database_url: str, user_id: int, zone: str) -> None:
    """Wait until the server has stored the zone the page reported over its socket (it is stored after the page
    is live, and the next page load reads it)."""
    db = Database(database_url)
    try:
        got = None
        for _ in range(400):
            async with db.read() as s:
                got = await s.scalar(select(User.time_zone).where(User.id == user_id))
            if got == zone:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"the page's zone {zone} was never stored (it holds {got!r})")
    finally:
        await db.dispose()


def rows(page: Any) -> Any:
    return page.locator("#ticket-list > li[data-ticket-id]")


async def shown(page: Any, ids: list[int]) -> None:
    await expect(rows(page)).to_have_count(len(ids))
    assert [int(i) for i in await rows(page).evaluate_all("(els) => els.map((el) => el.dataset.ticketId)")] == ids


async def set_days(page: Any, first: str, last: str) -> None:
    """Type the days (an empty one clears its field) and apply them: they wait for the button."""
    await page.fill("#filter-from", first)
    await page.fill("#filter-to", last)
    await expect(page.locator("#filter-submit")).to_have_class(re.compile(r"button-primary"))
    await page.click("#filter-submit")


async def test_days_on_a_laptop_in_tokyo(browser: Any, live_server: Any) -> None:
    w = await week_of(live_server)
    d = live_server._deployment
    staff_key = await new_person(d, "staff", org=None, tier=2)
    live_server.users[staff_key] = (d.users[staff_key]["email"], PASSWORD)
    staff: Person = await log_in(browser, live_server, staff_key, {**DESKTOP_1366, "timezone_id": "Asia/Tokyo"},
                                 next_path=f"/tickets?org={w.org}")
    try:
        s = staff.page
        # The first page knows no zone of this person yet: the desk's, said so. The page reports the browser's.
        await expect(s.locator("#filter-days-hint")).to_have_text(
            "Whole days, America/New York time (the support desk's time zone).")
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        await zone_stored(d.database_url, d.users[staff_key]["id"], "Asia/Tokyo")
        await set_days(s, "2018-11-06", "2018-11-08")
        await s.wait_for_url(RANGE)
        # Tokyo's 6th to 8th: late on New York's 5th is in, the last second of New York's 8th is not.
        await shown(s, [w.noted_7th, w.start_6th, w.late_5th])
        await expect(s.locator("#filter-days-hint")).to_have_text("Whole days, Asia/Tokyo time.")
        await expect(s.locator("#filter-days")).to_have_attribute("data-time-zone", "Asia/Tokyo")  # not sent again
        await expect(s.locator("#filter-count")).to_have_text("(filtered: updated Nov 6 – Nov 8, 2018)")
        await expect(s.locator("#filter-from")).to_have_value("2018-11-06")
        await expect(s.locator("#filter-clear")).to_be_visible()
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        await staff.shot("list-days-desktop")

        # Only a first day: the rest of the list from then on. Back: the range again, fields and all.
        await s.fill("#filter-to", "")
        await s.press("#filter-to", "Enter")
        await s.wait_for_url(lambda url: "updated_to" not in url and "updated_from=2018-11-06" in url)
        await shown(s, [w.start_9th, w.end_8th, w.noted_7th, w.start_6th, w.late_5th])
        await expect(s.locator("#filter-count")).to_have_text("(filtered: updated from Nov 6, 2018)")
        await s.go_back()
        await s.wait_for_url(RANGE)
        await expect(s.locator("#filter-to")).to_have_value("2018-11-08")
        await shown(s, [w.noted_7th, w.start_6th, w.late_5th])
        await expect(s.locator("#list-conn")).to_have_text(LIVE)

        # Live, the page agrees with the server: a ticket changed now is no longer changed in those days.
        await act(live_server, "engineer2", {"type": "chat", "topic": f"ticket:{w.start_6th}",
                                             "body": "Looking at it again.", "visibility": "internal"})
        await shown(s, [w.noted_7th, w.late_5th])

        # Saved, the view keeps the days.
        await s.click("#save-view > summary")
        await s.fill("#view-name", "Tokyo week")
        await s.click("#view-save")
        await s.wait_for_url(re.compile(r"view=\d+"))
        assert RANGE.search(s.url)
        await expect(s.locator('.view-chip[aria-current="page"]')).to_have_text("Tokyo week")
        await expect(s.locator("#filter-from")).to_have_value("2018-11-06")
        await shown(s, [w.noted_7th, w.late_5th])

        # A range the wrong way round is said on the page, at the field; nothing else breaks.
        await set_days(s, "2018-11-08", "2018-11-06")
        await s.wait_for_url(re.compile(r"updated_from=2018-11-08"))
        await expect(s.locator("#list-error")).to_have_text(
            "updated_to: 2018-11-06 is before updated_from (2018-11-08), so nothing can match: give the same day "
            "or a later one.")
        await expect(s.locator("#filter-to")).to_have_attribute("aria-invalid", "true")
        await expect(s.locator("#filter-panel")).to_have_attribute("open", "")
        await expect(s.locator("#list-conn")).to_have_text(LIVE)
        staff.assert_clean(allow=("400 (Bad Request)",))
    finally:
        await staff.context.close()


async def test_days_on_a_phone(browser: Any, live_server: Any) -> None:
    w = await week_of(live_server)
    client = await log_in(browser, live_server, w.client, {**PHONE_390, "timezone_id": "America/New_York"})
    try:
        c = client.page
        await expect(c.locator("#list-conn")).to_have_text(LIVE)
        # The browser's zone is the desk's too; the hint drops "the desk's" only once the page's report is stored.
        await zone_stored(live_server._deployment.database_url, live_server._deployment.users[w.client]["id"],
                          "America/New_York")
        await c.click("#filter-panel > summary")
        await expect(c.locator("#filter-from")).to_be_visible()
        await set_days(c, "2018-11-06", "2018-11-08")
        await c.wait_for_url(RANGE)
        # New York's days, as the client sees changes: the internal note on the 7th is not theirs to see.
        await shown(c, [w.end_8th, w.start_6th])
        await expect(c.locator("#filter-days-hint")).to_have_text("Whole days, America/New York time.")
        # On a phone the panel folds; its summary still says which days.
        await expect(c.locator("#filter-panel")).not_to_have_attribute("open", "")
        await expect(c.locator("#filter-count")).to_have_text("(filtered: updated Nov 6 – Nov 8, 2018)")
        await c.click("#filter-panel > summary")
        await expect(c.locator("#filter-to")).to_have_value("2018-11-08")
        await fits_the_phone_at_390(c)
        await client.shot("list-days-phone")
        await c.click("#filter-clear")
        await c.wait_for_url(re.compile(r"/tickets$"))
        await expect(c.locator("#filter-from")).to_have_value("")
        client.assert_clean()
    finally:
        await client.context.close()


async def fits_the_phone_at_390(page: Any) -> None:
    """fits_the_phone checks a 375px screen: the filters at 375 too, then back to 390."""
    await page.set_viewport_size({"width": 375, "height": 740})
    await fits_the_phone(page)
    await page.set_viewport_size({"width": 390, "height": 844})
