"""Days and times in the browser: one format on every page, in the viewer's zone (the feedback list included)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest

from tests.browser.helpers import expect, log_in
from tests.browser.test_ticket_list_badges import DESKTOP_1366, PHONE_390
from tests.utils import csrf_of

#: "Dec 3, 2026, 9:12 AM UTC": the one format (the zone is the viewer's: Chromium here runs in UTC)
ONE_FORMAT = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M [A-Z]{2,5}([+-]\d{1,2})?$")


@pytest.mark.parametrize(("options", "name"), [(DESKTOP_1366, "desktop"), (PHONE_390, "phone")])
async def test_the_feedback_list_shows_times_in_the_products_one_format(browser: Any, live_server: Any,
                                                                        options: dict[str, Any], name: str) -> None:
    words = f"Dates look odd here {secrets.token_hex(3)}"
    async with httpx.AsyncClient(base_url=live_server.url) as http:  # someone not signed in leaves feedback
        form = await http.get("/feedback", params={"page": "/billing"})
        r = await http.post("/feedback", data={"page": "/billing", "body": words, "csrf": csrf_of(form.text)})
        assert r.status_code == 200
    person = await log_in(browser, live_server, "admin", options, next_path="/feedback/all")
    try:
        page = person.page
        item = page.locator("#feedback-list li").filter(has_text=words)
        stamp = item.locator("time")
        await expect(stamp).to_have_text(ONE_FORMAT)
        await expect(stamp).to_have_attribute("title", re.compile(r"\d{4}"))
        shown = await page.locator("time[data-local='datetime']").all_text_contents()
        wrong = [t for t in shown if not ONE_FORMAT.match(t.strip())]
        assert not wrong, f"times in another format: {wrong}"
        await person.shot(f"feedback-list-{name}")
        person.assert_clean()
    finally:
        await person.context.close()
