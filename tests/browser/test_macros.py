"""Canned replies in a real browser: the /macros page, and the composer's picker ("/" or the button)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from tests.browser.helpers import PHONE, expect, fits_the_phone, log_in, token

WIDE = {"viewport": {"width": 1366, "height": 900}}


async def keep(live_server: Any, who: str, **fields: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        r = await http.post("/api/macros", json=fields,
                            headers={"Authorization": f"Bearer {await token(live_server, who)}"})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_staff_keep_their_canned_replies_on_a_page(browser: Any, live_server: Any) -> None:
    tag = secrets.token_hex(3)
    senior = await log_in(browser, live_server, "engineer2", WIDE)
    try:
        p = senior.page
        await p.click("#macros-link")
        await expect(p).to_have_url(re.compile(r"/macros$"))
        await expect(p.locator("h1")).to_have_text("Canned replies")
        await p.fill("#macro-title", f"Printer fixed {tag}")
        await p.fill("#macro-body", "Hi {{ client.email }}")
        await p.click("#macro-save")
        # Refused, naming the placeholder; what was typed is still there.
        await expect(p.locator("#macros-error")).to_contain_text("{{ client.email }} is not a placeholder")
        await expect(p.locator("#macro-title")).to_have_value(f"Printer fixed {tag}")
        await p.fill("#macro-body", "Hi {{ client.name }},\nthe printer on #{{ ticket.id }} is fixed.\n{{ agent.name }}")
        await p.select_option("#macro-status", "waiting_on_client")
        await p.fill("#macro-minutes", "120")
        await p.check("#macro-shared")
        await p.click("#macro-save")
        await expect(p.locator("#macros-saved")).to_contain_text("saved")
        item = p.locator(".macro-item", has_text=f"Printer fixed {tag}")
        await expect(item).to_contain_text("Shared")
        await expect(item).to_contain_text("Sets Waiting on client")
        await expect(item).to_contain_text("Next update in 120 min")
        await senior.shot("macros-desktop")

        # A Level 2 engineer reads the shared reply but cannot change it, nor share one.
        junior = await log_in(browser, live_server, "engineer", PHONE, next_path="/macros")
        try:
            j = junior.page
            theirs = j.locator(".macro-item", has_text=f"Printer fixed {tag}")
            await expect(theirs).to_contain_text("By Sam Senior")
            await expect(theirs.locator("button, a.button")).to_have_count(0)
            await expect(j.locator("#macro-shared")).to_have_count(0)
            await j.fill("#macro-title", f"Mine {tag}")
            await j.fill("#macro-body", "Thanks {{ client.name }}!")
            await j.click("#macro-save")
            await expect(j.locator(".macro-item", has_text=f"Mine {tag}")).to_contain_text("Personal")
            await junior.shot("macros-phone")
            await fits_the_phone(j)
            junior.assert_clean()
        finally:
            await junior.context.close()
        await expect(p.locator(".macro-item", has_text=f"Mine {tag}")).to_have_count(0)  # personal: theirs alone
        await p.reload()
        await expect(p.locator(".macro-item", has_text=f"Mine {tag}")).to_have_count(0)

        # Edit, then delete.
        await item.get_by_role("link", name="Edit").click()
        await expect(p.locator("#macro-form-title")).to_have_text(f"Edit “Printer fixed {tag}”")
        await expect(p.locator("#macro-minutes")).to_have_value("120")
        await p.fill("#macro-title", f"Printer repaired {tag}")
        await p.click("#macro-save")
        await expect(p.locator("#macros-saved")).to_have_text("Your changes were saved.")
        repaired = p.locator(".macro-item", has_text=f"Printer repaired {tag}")
        await repaired.get_by_role("button", name=f"Delete Printer repaired {tag}").click()
        await expect(p.locator("#macros-saved")).to_have_text("The canned reply was deleted.")
        await expect(repaired).to_have_count(0)
        senior.assert_clean(allow=("status of 400",))  # the refused save answers 400, as it should
    finally:
        await senior.context.close()

    client = await log_in(browser, live_server, "client", WIDE)
    try:
        await expect(client.page.locator("#macros-link")).to_have_count(0)
        r = await client.page.goto(f"{live_server.url}/macros")
        assert r is not None and r.status == 404
    finally:
        await client.context.close()


async def test_the_composer_picker_inserts_a_reply_filled_in_for_the_ticket(browser: Any, live_server: Any) -> None:
    tag = secrets.token_hex(3)
    await keep(live_server, "engineer", title=f"Fixed {tag}", body="Hi {{ client.name }}, #{{ ticket.id }} is fixed.",
               status="waiting_on_client", next_update_minutes=120)
    await keep(live_server, "engineer", title=f"Greeting {tag}", body="Hello {{ client.name }}, {{ agent.name }} here.")
    ticket = await live_server.new_ticket(f"Scanner {tag}", "It scans nothing.")
    staff = await log_in(browser, live_server, "engineer", WIDE)
    try:
        p = staff.page
        await staff.open_ticket(live_server.url, ticket)
        await p.evaluate("""() => document.querySelector('#message').addEventListener('macro:applied',
                              (ev) => { window.appliedMacro = ev.detail; })""")
        box = p.locator("#message")
        await box.click()
        await box.press_sequentially("/")
        picker = p.locator(".macro-picker")
        await expect(picker).to_be_visible()
        await expect(picker.locator(".macro-option", has_text=f"Fixed {tag}")).to_be_visible()
        await box.press_sequentially(f"{tag} gree")  # filters as you type
        await expect(picker.locator(".macro-option")).to_have_count(0)
        for _ in range(5):
            await box.press("Backspace")
        await expect(picker.locator(".macro-option")).to_have_count(2)
        await box.press("ArrowDown")
        await expect(picker.locator('.macro-option[aria-selected="true"]')).to_contain_text(f"Greeting {tag}")
        await box.press("ArrowUp")
        await expect(picker.locator('.macro-option[aria-selected="true"]')).to_contain_text(f"Fixed {tag}")
        await staff.shot("macro-picker-desktop")
        await box.press("Enter")
        await expect(box).to_have_value(f"Hi Alice Client, #{ticket} is fixed.")
        await expect(picker).to_be_hidden()
        await expect(p.locator(".macro-note")).to_have_text(re.compile(
            r"Sending will also set: status “Waiting on client” · next update in 2 hours\."))
        assert await p.evaluate("() => window.appliedMacro") == {"status": "waiting_on_client",
                                                                 "next_update_minutes": 120}
        await staff.shot("macro-note-desktop")

        # Esc closes without touching the text; "/" not at the start opens nothing.
        await box.press("End")
        await box.press_sequentially(" /x")
        await expect(picker).to_be_hidden()
        await box.fill("")
        await box.press_sequentially("/")
        await expect(picker).to_be_visible()
        await box.press("Escape")
        await expect(picker).to_be_hidden()
        await expect(box).to_have_value("/")
        staff.assert_clean()
    finally:
        await staff.context.close()


async def test_the_picker_works_by_touch_on_a_phone(browser: Any, live_server: Any) -> None:
    tag = secrets.token_hex(3)
    await keep(live_server, "engineer", title=f"Phone hello {tag}", body="Hello {{ client.name }} from {{ agent.name }}")
    ticket = await live_server.new_ticket(f"Phone {tag}", "Hi.")
    staff = await log_in(browser, live_server, "engineer", PHONE)
    try:
        p = staff.page
        await staff.open_ticket(live_server.url, ticket)
        await p.locator("#message").fill("Before. ")
        await p.locator(".macro-open").tap()
        search = p.locator(".macro-search")
        await expect(search).to_be_focused()
        await search.fill(tag)
        option = p.locator(".macro-option", has_text=f"Phone hello {tag}")
        await expect(p.locator(".macro-option")).to_have_count(1)
        await staff.shot("macro-picker-phone")
        await fits_the_phone(p)
        await option.tap()
        await expect(p.locator("#message")).to_have_value("Before. Hello Alice Client from Dana Engineer")
        await expect(p.locator(".macro-note")).to_be_hidden()  # this one sets nothing
        staff.assert_clean()
    finally:
        await staff.context.close()
