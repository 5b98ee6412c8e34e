"""A call taken on a phone: the client reads their PIN on their ticket list; Lee (Level 1) mistypes it (No match),
then verifies the caller, sees the three groups with the red lines disabled, and opens a ticket on the caller's
behalf, which the client then finds in their list. The console fits a 375px phone with 44px tap targets."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import PHONE, expect, fits_the_phone, log_in, user


async def test_a_call_verified_and_a_ticket_opened_for_the_caller(browser: Any, live_server: Any) -> None:
    client = await log_in(browser, live_server, "client")
    lee = await log_in(browser, live_server, "phone", PHONE, next_path="/support/verify")
    try:
        c, p = client.page, lee.page
        # The client finds the PIN at the top of their dashboard.
        await c.goto(f"{live_server.url}/tickets")
        card = c.locator("#support-pin")
        await expect(card).to_be_visible()
        await expect(card).to_contain_text("Give it with your e-mail address when you call us")
        pin = await c.locator("#pin-value").get_attribute("data-pin")
        assert pin and re.fullmatch(r"\d{6}", pin)
        spoken = f"{pin[:3]} {pin[3:]}"
        await client.shot("phone-pin-on-ticket-list")
        await expect(c.locator("#pin-value")).to_have_text(re.compile(rf"^\s*{pin[:3]}\s*{pin[3:]}\s*$"))

        # Before verifying: public help only; the PIN-required actions say why not; the red lines are shut.
        await expect(p.locator("#phone-console-link")).to_have_attribute("aria-current", "page")
        await expect(p.locator("#actions-pin .phone-action[data-allowed='false']")).to_have_count(3)
        await expect(p.locator("#why-open_ticket")).to_contain_text("Verify the caller first")
        await fits_the_phone(p)

        email = user(live_server, "client")["email"]
        wrong = "000000" if pin != "000000" else "111111"
        await p.fill("#caller-email", email)
        await p.fill("#caller-pin", wrong)
        await p.locator("#verify-submit").tap()
        await expect(p.locator("#verify-error")).to_contain_text("No match")
        await expect(p.locator("#caller")).to_have_count(0)
        await expect(p.locator("#caller-email")).to_have_value(email)  # kept; only the PIN is typed again

        await p.fill("#caller-pin", spoken)  # as the caller reads it out, with a space
        await p.locator("#verify-submit").tap()
        await expect(p.locator("#caller")).to_have_attribute("data-verified", "true")
        # The time alone when the verification ends today; the day before it when it ends after midnight.
        await expect(p.locator("#caller-state")).to_contain_text(
            re.compile(r"Verified until (?:[A-Z][a-z]{2} \d{1,2}, \d{4}, )?\d{1,2}:\d{2} [AP]M"))
        await expect(p.locator("#caller-name")).to_have_text("Alice Client")
        await expect(p.locator("#caller-org")).to_have_text("Acme")
        await expect(p.locator("#caller-standing")).to_contain_text("In good standing")
        await expect(p.locator("body")).not_to_contain_text(pin)  # staff never see the PIN

        # The three groups: public and PIN-required open, the red lines shown disabled with the reason.
        await expect(p.locator("#actions-public .phone-action[data-allowed='true']")).to_have_count(3)
        await expect(p.locator("#actions-pin .phone-action[data-allowed='true']")).to_have_count(3)
        for red in ("add_contact", "delete_service"):
            item = p.locator(f"#action-{red}")
            await expect(item).to_have_attribute("data-allowed", "false")
            await expect(item.get_by_role("button", name="Never by phone")).to_be_disabled()
            await expect(item.locator(".phone-action-why")).to_contain_text("Never by phone")
            await expect(item.locator("form")).to_have_count(0)
        await fits_the_phone(p)
        await lee.shot("phone-console-verified")

        # A ticket opened on the caller's behalf; the console says what was done, with a link.
        await p.fill("#text-open_ticket", "The scanner at reception stopped sending to e-mail\nSince the update.")
        await p.locator("#do-open_ticket").tap()
        done = p.locator("#done")
        await expect(done).to_contain_text(
            re.compile(r"Ticket #\d+ opened: By phone: The scanner at reception stopped sending to e-mail"))
        number = re.search(r"#(\d+)", await done.inner_text()).group(1)  # type: ignore[union-attr]
        await expect(p.locator("#done-link")).to_have_attribute("href", f"/tickets/{number}")
        await expect(p.locator("#caller")).to_have_attribute("data-verified", "true")  # still verified
        await fits_the_phone(p)

        # The client sees it in their list (live, or at the latest after a reload).
        row = c.locator(f"#ticket-list li[data-ticket-id='{number}']")
        try:
            await expect(row).to_have_count(1, timeout=5_000)
        except AssertionError:
            await c.reload()
            await expect(row).to_have_count(1)
        await expect(row).to_contain_text("By phone: The scanner at reception stopped sending to e-mail")

        client.assert_clean()
        lee.assert_clean()
    finally:
        await client.context.close()
        await lee.context.close()
