"""/reports in a real browser: reached from the More menu, the range form, charts with their tables, and today's
counters moving live when a ticket is opened."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.browser.helpers import LIVE, expect, log_in, token
from tests.web.test_reports import make_week

WIDE = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


async def test_reports_page(browser: Any, live_server: Any) -> None:
    await make_week(live_server._deployment)
    senior = await log_in(browser, live_server, "engineer2", WIDE)
    try:
        p = senior.page
        await p.click("#nav-more summary")
        await p.click("#reports-link")
        await expect(p).to_have_url(re.compile(r"/reports$"))
        await expect(p.locator("#today-conn-text")).to_have_text(LIVE)
        before = int(await p.locator("#today-opened").inner_text())
        await p.fill("#report-from", "2021-03-01")
        await p.fill("#report-to", "2021-03-07")
        await p.click("#reports-range button[type=submit]")
        await expect(p).to_have_url(re.compile(r"from=2021-03-01&to=2021-03-07"))
        await expect(p.locator("#sum-created")).to_have_text("3")
        await expect(p.locator("#sum-solved")).to_have_text("2")
        await expect(p.locator("#sum-sla")).to_have_text("67%")
        await expect(p.locator("#days-table tbody tr")).to_have_count(7)
        images = p.locator(".page-reports figure img")
        await expect(images).to_have_count(6)
        for i in range(6):  # drawn: a loaded image, and a table beside it for screen readers
            assert await images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            assert "table beside it" in (await images.nth(i).get_attribute("alt") or "")
        await expect(p.locator("#report-export")).to_have_attribute("href", re.compile(r"export\.csv\?from=2021"))
        await senior.shot("reports-desktop")

        async with httpx.AsyncClient(base_url=live_server.url) as http:  # a ticket opened now: counted live
            r = await http.post("/api/tickets", json={"subject": "Live count", "body": "Hello"},
                                headers={"Authorization": f"Bearer {await token(live_server, 'client')}"})
            assert r.status_code == 201, r.text
        await expect(p.locator("#today-opened")).not_to_have_text(str(before))
        senior.assert_clean()
    finally:
        await senior.context.close()

    phone = await log_in(browser, live_server, "engineer2", PHONE, next_path="/reports")
    try:
        await phone.page.goto(f"{live_server.url}/reports?from=2021-03-01&to=2021-03-07")
        await expect(phone.page.locator("#sum-created")).to_have_text("3")
        width = await phone.page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px phone"
        await phone.shot("reports-phone")
        phone.assert_clean()
    finally:
        await phone.context.close()



async def test_reports_page_is_for_level_3(browser: Any, live_server: Any) -> None:
    junior = await log_in(browser, live_server, "engineer", WIDE)
    try:
        await junior.page.click("#nav-more summary")
        await expect(junior.page.locator("#reports-link")).to_have_count(0)
        response = await junior.page.goto(f"{live_server.url}/reports")
        assert response is not None and response.status == 404
    finally:
        await junior.context.close()
