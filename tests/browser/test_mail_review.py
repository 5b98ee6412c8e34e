"""The "Mail to review" page in a real browser, on a laptop and a phone: held e-mail listed with why, discarded
and opened as a ticket through its forms (CSRF), over a real server and `livesupport mail-in`."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from tests.browser.helpers import DESKTOP, PHONE, expect, log_in
from tests.conftest import PASSWORD, Deployment
from tests.mailin.helpers import MailDesk, mail_desk
from tests.mailin.test_review import held_from
from tests.realtime.helpers import open_ticket

LAPTOP = {**DESKTOP, "viewport": {"width": 1366, "height": 900}}
PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
async def desk(sqlite_deployment: Deployment, redis_url: tuple[str, str]) -> AsyncIterator[MailDesk]:
    async with mail_desk(sqlite_deployment, redis_url) as m:
        yield m


async def test_the_page_in_a_browser(desk: MailDesk, browser: object) -> None:
    tid = await open_ticket(desk.server, desk.d, "Review: page")
    first = await held_from(desk, f"page-{secrets.token_hex(3)}@elsewhere.test", tid)
    second = await held_from(desk, f"page-{secrets.token_hex(3)}@elsewhere.test", tid)
    site = SimpleNamespace(url=desk.server.url, users={k: (v["email"], PASSWORD) for k, v in desk.d.users.items()})
    for options, name in ((PHONE_390, "phone"), (LAPTOP, "laptop")):  # the laptop decides, last
        dana = await log_in(browser, site, "engineer", options, next_path="/mail-review")
        page = dana.page
        await expect(page.locator(f"#held-{first}")).to_contain_text("Nobody with this address has an account")
        await dana.shot(f"mail-review-{name}")
        if name == "laptop":
            await page.click(f"#discard-{first}")
            await expect(page.locator("#review-saved")).to_have_text(re.compile("discarded"))
            await expect(page.locator(f"#held-{first}")).to_have_count(0)
            await page.select_option(f"#org-{second}", label="Acme")
            await page.locator(f"#held-{second} form:has(select) button").click()
            await expect(page.locator("#review-saved")).to_contain_text("A ticket was opened")
            await expect(page.locator(f"#held-{second}")).to_have_count(0)
        dana.assert_clean()
        await dana.context.close()
