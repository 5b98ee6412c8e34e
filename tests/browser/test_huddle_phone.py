"""A busy ticket on a phone: pinned guidance, a reply with its quote, tasks and files, all within 375px.

Sam (Level 3) works from a phone: he pins an internal note as guidance, which Dana (Level 2) sees at the
top of her page without being able to change it, and replies to the client's message. The client never
sees the guidance. Nothing on the phone is wider than the screen and every control is a 44px tap target.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import PHONE, act, expect, fits_the_phone, log_in, message, upload, user


async def test_guidance_and_replies_on_a_phone(browser: Any, live_server: Any) -> None:
    long_word = "https://example.com/" + "y" * 150
    ticket = await live_server.new_ticket(
        "Outlook keeps asking for the password on every laptop in the branch office",
        f"Since this morning Outlook asks again and again. See {long_word}",
    )
    topic = f"ticket:{ticket}"
    note = await act(
        live_server,
        "engineer",
        {
            "type": "chat",
            "topic": topic,
            "visibility": "internal",
            "body": "Legacy auth is blocked for this tenant – rebuild the profile. GUIDE-3391",
        },
    )
    await act(
        live_server,
        "engineer",
        {
            "type": "task",
            "topic": topic,
            "title": "Rebuild the Outlook profile on every laptop in the branch",
            "assignee_id": user(live_server, "engineer2")["id"],
            "note": "Use the new template",
        },
    )
    r = await upload(
        live_server,
        "client",
        ticket,
        [("screenshot-of-the-password-prompt-again.txt", b"prompt", "text/plain")],
        body="The prompt, as you asked.",
    )
    assert r.status_code == 201, r.text

    sam = await log_in(browser, live_server, "engineer2", PHONE)
    dana = await log_in(browser, live_server, "engineer")
    client = await log_in(browser, live_server, "client")
    try:
        s, d, c = sam.page, dana.page, client.page
        await sam.open_ticket(live_server.url, ticket)
        await dana.open_ticket(live_server.url, ticket)
        await client.open_ticket(live_server.url, ticket)
        await expect(s.locator("#tasks-progress")).to_have_text("0 of 1 done")
        await expect(s.locator("a.attachment-link")).to_contain_text(
            "screenshot-of-the-password-prompt-again.txt"
        )

        # Sam pins Dana's note; both see the guidance on top, only Sam may unpin it.
        internal = message(s, "GUIDE-3391", "internal")
        await expect(internal).to_contain_text("Internal")
        await internal.get_by_role("button", name="Pin as guidance").tap()
        for page in (s, d):
            await expect(page.locator("#guidance")).to_be_visible()
            await expect(page.locator("#guidance-body")).to_contain_text("GUIDE-3391")
            await expect(page.locator("#guidance-by")).to_contain_text("pinned by Sam Senior")
        await expect(internal).to_have_class(re.compile(r"\bis-pinned\b"))
        await expect(d.locator("#guidance-unpin")).to_have_count(0)
        await expect(d.locator('#messages button[data-action="pin"]')).to_have_count(0)
        await expect(d.locator('#messages li[data-kind="pin"]')).to_contain_text(
            "Sam Senior pinned a note as guidance"
        )
        await expect(c.locator("#guidance")).to_have_count(0)

        # Sam replies to the client's first message: the reply quotes it and leads back to it.
        first = message(s, "Since this morning Outlook asks again")
        await first.get_by_role("button", name="Reply").tap()
        await expect(s.locator("#reply-banner")).to_be_visible()
        await expect(s.locator("#reply-quote")).to_contain_text(
            "Since this morning Outlook asks again"
        )
        await s.fill("#message", "Thanks – I am rebuilding your profile now. REPLY-7720")
        await s.locator("#send").tap()
        await expect(s.locator("#reply-banner")).to_be_hidden()
        for page in (s, c):
            reply = message(page, "REPLY-7720", "public")
            await expect(reply.locator("a.msg-quote")).to_contain_text(
                "Since this morning Outlook asks again"
            )
        quote = message(c, "REPLY-7720").locator("a.msg-quote")
        parent = await quote.get_attribute("data-reply-to")
        await quote.click()
        await expect(c.locator(f"#msg-{parent}")).to_contain_text(
            "Since this morning Outlook asks again"
        )
        await expect(c.locator(f"#msg-{parent}")).to_have_class(re.compile(r"\bis-flash\b"))

        await s.locator("#messages").scroll_into_view_if_needed()
        await fits_the_phone(s)
        await sam.shot("huddle-phone-sam")
        await dana.shot("huddle-desktop-dana")

        # Unpinned from the guidance itself: gone for everyone on the staff side.
        await s.locator("#guidance-unpin").tap()
        for page in (s, d):
            await expect(page.locator("#guidance")).to_be_hidden()
        assert "GUIDE-3391" not in await c.content()
        assert note["seq"]
        for person in (sam, dana, client):
            person.assert_clean()
    finally:
        for person in (sam, dana, client):
            await person.context.close()
