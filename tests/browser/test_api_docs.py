"""The API reference page in a real browser: readable signed out and signed in, on a desk and on a phone."""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import DESKTOP, PHONE, Person, expect, fits_the_phone, log_in
from tests.conftest import LiveServer


async def _check(person: Person, name: str) -> None:
    page = person.page
    await expect(page.locator("h1")).to_have_text("API reference")
    await expect(page.locator("#create_token")).to_contain_text("POST")
    await expect(page.locator("#create_token")).to_contain_text("/api/tokens")
    await expect(page.locator("#get_ticket")).to_contain_text("ticket_id")
    await expect(page.locator("#auth")).to_contain_text("appKey")
    await expect(page.locator("#verify_otp")).to_contain_text("Application key")
    await page.locator('.api-toc a[href="#tag-billing"]').click()
    await expect(page.locator("#tag-billing")).to_be_in_viewport()
    await person.shot(name)
    person.assert_clean()


async def test_the_reference_reads_signed_out(browser: Any, live_server: LiveServer) -> None:
    for options, name in ((DESKTOP, "api-docs-desktop"), (PHONE, "api-docs-phone")):
        context = await browser.new_context(**options)
        person = Person(context, await context.new_page())
        try:
            await person.page.goto(f"{live_server.url}/tickets/new")  # the footer links to it from every page
            await person.page.click("#api-docs-link")
            await person.page.wait_for_url(f"{live_server.url}/api/docs")
            await _check(person, name)
            if options is PHONE:
                await fits_the_phone(person.page)
        finally:
            await context.close()


async def test_the_reference_reads_signed_in_on_a_phone(browser: Any, live_server: LiveServer) -> None:
    person = await log_in(browser, live_server, "client", PHONE)
    try:
        await person.page.goto(f"{live_server.url}/api/docs")
        await expect(person.page.locator("#account-link")).to_be_visible()
        await _check(person, "api-docs-phone-signed-in")
        await fits_the_phone(person.page)
    finally:
        await person.context.close()
