"""The staff workspace on the ticket page: one laptop screen, every section from the phone's menu, "send and set
a status" in one action (also preselected by a canned reply), and the client context, for staff only.

Set LIVESUPPORT_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import act, expect, log_in, message, send, token

LAPTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


async def realistic_ticket(live_server: Any) -> int:
    """A ticket with a few messages both ways, as a desk sees them every day."""
    ticket = await live_server.new_ticket(
        "Printer offline since the move",
        "Since we moved to the 3rd floor the office printer shows offline. Nobody can print invoices today.")
    topic = f"ticket:{ticket}"
    await act(live_server, "engineer", {"type": "chat", "topic": topic,
                                        "body": "Thanks for the details. Which model is it, and does it show an IP "
                                                "address on its own screen?"})
    await act(live_server, "client", {"type": "chat", "topic": topic,
                                      "body": "It's an HP LaserJet M404. The screen says 169.254.12.8."})
    await act(live_server, "engineer", {"type": "chat", "topic": topic, "visibility": "internal",
                                        "body": "Self-assigned address: the new floor's switch port has no DHCP."})
    await act(live_server, "engineer", {"type": "chat", "topic": topic,
                                        "body": "That address means it is not getting one from your network. Can "
                                                "you plug it into the wall port next to the window?"})
    return ticket


async def macro_applied(page: Any, detail: dict[str, Any]) -> None:
    """What the canned-reply picker does when a reply is inserted: a CustomEvent on the composer's textarea."""
    await page.locator("#message").evaluate(
        "(box, detail) => box.dispatchEvent(new CustomEvent('macro:applied', { detail }))", detail)


async def document_height(page: Any) -> int:
    return int(await page.evaluate("() => document.documentElement.scrollHeight"))


async def bottom_of(page: Any, selector: str) -> float:
    box = await page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return float(box["y"] + box["height"])


async def test_the_staff_page_fits_a_laptop_screen_with_the_conversation_first(
    browser: Any, live_server: Any
) -> None:
    ticket = await realistic_ticket(live_server)
    staff = await log_in(browser, live_server, "engineer", LAPTOP)
    client = await log_in(browser, live_server, "client", LAPTOP)
    try:
        for person in (staff, client):
            page = person.page
            await person.open_ticket(live_server.url, ticket)
            await expect(message(page, "wall port next to the window")).to_have_count(1)
            assert await document_height(page) <= 900, f"the page is {await document_height(page)} px tall"
            # The conversation, the composer and its send button are on screen without scrolling.
            for selector in ("#messages", "#message", "#send"):
                assert await bottom_of(page, selector) <= 900, f"{selector} is below the fold"
            await person.shot(f"workspace-laptop-{'staff' if person is staff else 'client'}")
        s = staff.page
        # Every staff action is one tap away: the status bar, working, follow, and the menu of the rest.
        for selector in ("#status-select", "#next-update-input", "#status-save", "#working-toggle",
                         "#follow-toggle", "#more-actions", "#assign-toggle", "#client-context"):
            await expect(s.locator(selector)).to_be_visible()
        box = await s.locator("#messages").bounding_box()
        side = await s.locator("#ticket-side").bounding_box()
        assert box is not None and side is not None and box["x"] < side["x"]  # the conversation comes first
        assert box["width"] > 2 * side["width"]
        await s.click("#more-actions")
        for item in ("#open-invite", "#open-contact-follow"):
            await expect(s.locator(item)).to_be_visible()
        await s.keyboard.press("Escape")
        await expect(s.locator("#more-menu")).to_be_hidden()
        # The client page has no staff control at all.
        c = client.page
        for selector in ("#status-form", "#more-actions", "#send-options", "#client-context", "#working-toggle"):
            await expect(c.locator(selector)).to_have_count(0)
        staff.assert_clean()
        client.assert_clean()
    finally:
        await staff.context.close()
        await client.context.close()


async def test_every_section_is_reachable_from_the_phone_menu(browser: Any, live_server: Any) -> None:
    ticket = await realistic_ticket(live_server)
    staff = await log_in(browser, live_server, "engineer", PHONE_390)
    try:
        page = staff.page
        await staff.open_ticket(live_server.url, ticket)
        width = await page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px phone"
        toggle = page.locator("#section-menu-toggle")
        current = page.locator("#section-current")
        await expect(current).to_have_text("Conversation")
        links = page.locator("#section-list a")
        names = [name.strip() for name in await links.all_text_contents()]
        assert names == ["Conversation", "People", "Client", "Tasks", "Details", "Status and work"]
        for name in reversed(names):  # from the bottom up, so each jump really moves
            await toggle.tap()
            await expect(page.locator("#section-list")).to_be_visible()
            await page.locator("#section-list a", has_text=name).tap()
            await expect(page.locator("#section-list")).to_be_hidden()
            await expect(current).to_have_text(name)
            target = await page.locator("#section-list a", has_text=name).get_attribute("data-target")
            box = await page.locator(f"#{target}").bounding_box()
            assert box is not None and 0 <= box["y"] < 844, f"{name} is not on screen after the jump: {box}"
            # The menu button, naming the current section, stays on screen wherever one is.
            bar = await toggle.bounding_box()
            assert bar is not None and 0 <= bar["y"] and bar["y"] + bar["height"] <= 844
            await staff.shot(f"workspace-phone-{target}")
        # Scrolling by hand moves the name along too.
        await page.evaluate("() => document.getElementById('conversation').scrollIntoView()")
        await expect(current).to_have_text("Conversation")
        # The actions with fields open as dialogs on the phone too.
        await page.locator("#section-list a", has_text="Conversation").evaluate("a => a.click()")
        await page.locator("#more-actions").tap()
        await page.locator("#open-invite").tap()
        await expect(page.locator("#invite-dialog")).to_be_visible()
        await expect(page.locator("#invite-user")).to_be_focused()
        await page.locator("#invite-dialog [data-close]").tap()
        await expect(page.locator("#invite-dialog")).to_be_hidden()
        staff.assert_clean()
    finally:
        await staff.context.close()


async def test_send_and_set_the_status_in_one_action(browser: Any, live_server: Any) -> None:
    ticket = await live_server.new_ticket("Mailbox full", "I cannot receive any mail since this morning.")
    staff = await log_in(browser, live_server, "engineer", LAPTOP)
    client = await log_in(browser, live_server, "client", PHONE_390)
    try:
        s, c = staff.page, client.page
        await staff.open_ticket(live_server.url, ticket)
        await client.open_ticket(live_server.url, ticket)
        await s.fill("#message", "I raised your quota to 50 GB. Can you check that mail arrives again?")
        await s.click("#send-options")
        await s.click('#send-menu [data-send-status="waiting_on_client"]')
        await expect(message(s, "raised your quota")).to_have_attribute("data-seq", "2")
        for page, words in ((s, "Waiting on client"), (c, "Waiting on you")):
            await expect(page.locator("#status")).to_have_text(words)
            await expect(message(page, "raised your quota")).to_have_count(1)
            await expect(page.locator('#messages li[data-kind="status"][data-seq="3"]')).to_have_count(1)
        await expect(s.locator("#send")).to_have_text("Send")  # a one-off: the next message sets nothing

        # A canned reply preselects its status and promised update; Ctrl+Enter sends both.
        await s.fill("#message", "Glad it works again. I'm closing this as solved.")
        await macro_applied(s, {"status": "resolved", "next_update_minutes": 0})
        await expect(s.locator("#send")).to_have_text("Send and set Resolved")
        await expect(s.locator("#send-status-note")).to_have_text("Sending will also set the status to Resolved.")
        await s.locator("#message").press("Control+Enter")
        for page in (s, c):
            await expect(page.locator("#status")).to_have_text("Resolved")
            await expect(message(page, "closing this as solved")).to_have_count(1)
        await expect(s.locator("#send")).to_have_text("Send")

        # A canned reply's promise of the next update travels with it.
        await s.fill("#message", "Reopening: the vendor is checking the mail server.")
        await macro_applied(s, {"status": "in_progress", "next_update_minutes": 120})
        await expect(s.locator("#send-status-note")).to_have_text(
            "Sending will also set the status to In progress, next update in 2 h.")
        await s.click("#send")
        await expect(s.locator("#status")).to_have_text("In progress")
        await expect(c.locator("#next-update")).to_contain_text("Next update by")

        # An unknown status from a picker preselects nothing; the client's composer has no such control.
        await macro_applied(s, {"status": "done"})
        await expect(s.locator("#send")).to_have_text("Send")
        await expect(c.locator("#send-options")).to_have_count(0)
        await send(client, "It works, thank you!")
        await expect(c.locator("#status")).to_have_text("In progress")  # a client's message sets no status
        staff.assert_clean()
        client.assert_clean()
    finally:
        await staff.context.close()
        await client.context.close()


async def test_the_client_context_beside_the_ticket(browser: Any, live_server: Any) -> None:
    import secrets

    import httpx

    org = f"Context {secrets.token_hex(3)}"  # of its own: no caller of it verified by another test's phone call
    who = await live_server.new_user("client", org=org)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        headers = {"Authorization": f"Bearer {await token(live_server, who)}"}
        ticket, other = [(await http.post("/api/tickets", json={"subject": subject, "body": body}, headers=headers))
                         .json()["id"] for subject, body in (("VPN drops at lunch", "Every day around noon."),
                                                             ("New starter next week", "Set up an account for Jo."))]
    client = await log_in(browser, live_server, who, {**PHONE_390, "timezone_id": "Asia/Tokyo"})
    staff = await log_in(browser, live_server, "engineer", LAPTOP)
    try:
        await client.open_ticket(live_server.url, ticket)  # the browser says where the contact is
        await expect(client.page.locator("#client-context")).to_have_count(0)
        s = staff.page
        await staff.open_ticket(live_server.url, ticket)
        panel = s.locator("#client-context")
        await expect(panel.locator("#context-title")).to_have_text(org)
        await expect(panel.locator("#context-standing")).to_contain_text("Billing:")
        await expect(panel.locator("#context-owed")).to_contain_text("$")
        await expect(panel.locator("#context-local-time")).to_contain_text("Asia/Tokyo, UTC+09:00")
        await expect(panel.locator("#context-verified")).to_contain_text("No caller verified in the last 30 minutes")
        link = panel.locator(f'#context-tickets a[href="/tickets/{other}"]')
        await expect(link).to_contain_text("New starter next week")
        await expect(panel.locator(f'#context-tickets a[href="/tickets/{ticket}"]')).to_have_count(0)
        await staff.shot("workspace-client-context")
        await link.click()
        await expect(s.locator("#ticket-subject")).to_have_text("New starter next week")
        staff.assert_clean()
        client.assert_clean()
    finally:
        await staff.context.close()
        await client.context.close()
