"""The header in a real browser: an admin's links and name fit one row on a 1280 px screen, the pages opened now and then
are a tap away under "More" (which closes on Escape and on a tap elsewhere), the name opens the account page, and
billing staff are not offered tickets. On a desktop and on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.helpers import DESKTOP, PHONE, expect, fits_the_phone, log_in


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_more_menu_account_link_and_one_row(browser: Any, live_server: Any, size: str) -> None:
    admin = await log_in(browser, live_server, "admin", DESKTOP if size == "desktop" else PHONE,
                         next_path="/tickets")
    try:
        p = admin.page
        menu = p.locator("#nav-more .nav-more-menu")
        await expect(menu).to_be_hidden()
        if size == "desktop":  # the brand, every link and the account block share one row
            tops = await p.evaluate("""() => [...document.querySelectorAll('.brand, .main-nav > *, #account-link')]
                                        .map((el) => Math.round(el.getBoundingClientRect().top))""")
            assert max(tops) - min(tops) < 20, tops
        else:
            await fits_the_phone(p)
        await p.click("#nav-more > summary")
        await expect(menu).to_be_visible()
        await p.keyboard.press("Escape")
        await expect(menu).to_be_hidden()
        await p.click("#nav-more > summary")
        await p.click("h1")  # a tap elsewhere closes it
        await expect(menu).to_be_hidden()
        await p.click("#nav-more > summary")
        await menu.get_by_role("link", name="Accounts").click()
        await p.wait_for_url(re.compile(r"/admin/users$"))
        await expect(p.locator("#nav-more > summary")).to_have_attribute("aria-current", "page")
        await p.click("#account-link")
        await p.wait_for_url(re.compile(r"/account$"))
        admin.assert_clean()
    finally:
        await admin.context.close()


async def test_billing_staff_are_not_offered_tickets(browser: Any, live_server: Any) -> None:
    who = await live_server.new_user("billing", org=None)
    person = await log_in(browser, live_server, who, DESKTOP, next_path="/billing/orgs")
    try:
        nav = person.page.locator(".main-nav")
        await expect(nav.get_by_role("link", name="Billing")).to_have_attribute("aria-current", "page")
        await expect(nav.get_by_role("link", name="Tickets")).to_have_count(0)
        await expect(nav.get_by_role("link", name="New ticket")).to_have_count(0)
        await expect(person.page.locator("#nav-more")).to_have_count(0)
    finally:
        await person.context.close()


async def test_on_a_phone_the_current_link_is_in_view_and_clipped_edges_fade(browser: Any, live_server: Any) -> None:
    """The links scroll sideways on a phone: the current page's link (past the screen's edge in the markup's order)
    is scrolled into view, and the nav marks the edges with more links beyond them, which follow its scrolling."""
    admin = await log_in(browser, live_server, "admin", PHONE, next_path="/support/verify")
    try:
        p = admin.page
        nav = p.locator(".main-nav")
        current = nav.locator("#phone-console-link")
        await expect(current).to_have_attribute("aria-current", "page")
        await expect(nav).to_have_class(re.compile(r"\bis-clipped-start\b"))
        box, link = await nav.bounding_box(), await current.bounding_box()
        assert box and link
        assert box["x"] <= link["x"] and link["x"] + link["width"] <= box["x"] + box["width"], (box, link)
        await nav.evaluate("(el) => { el.scrollLeft = 0; }")
        await expect(nav).not_to_have_class(re.compile(r"\bis-clipped-start\b"))
        await expect(nav).to_have_class(re.compile(r"\bis-clipped-end\b"))
        await nav.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
        await expect(nav).not_to_have_class(re.compile(r"\bis-clipped-end\b"))
        await expect(nav).to_have_class(re.compile(r"\bis-clipped-start\b"))
        await fits_the_phone(p)
        admin.assert_clean()
    finally:
        await admin.context.close()


async def test_on_a_desktop_nothing_is_clipped(browser: Any, live_server: Any) -> None:
    admin = await log_in(browser, live_server, "admin", DESKTOP, next_path="/support/verify")
    try:
        nav = admin.page.locator(".main-nav")
        await expect(nav.locator("#phone-console-link")).to_have_attribute("aria-current", "page")
        assert await nav.evaluate("(el) => el.className") == "main-nav"
    finally:
        await admin.context.close()
