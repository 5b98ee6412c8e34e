"""Desktop notifications and following, in a real browser.

Dana (staff) has livesupport open in a window that is not in front (the page reports no focus), with
notifications allowed: a client's message on a ticket assigned to her, and an invitation into a huddle,
each show one system notification. With the page in front, they do not. Permission is never asked for
on page load, only when the "Turn on" button is clicked. A client follows and unfollows a ticket from its page.
"""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    act,
    expect,
    fits_the_phone,
    log_in,
    more_action,
    user,
)

# Records every Notification the page creates, and every permission request, around the real API.
WATCH = """
(() => {
  window.__shown = [];
  window.__asked = 0;
  const Real = window.Notification;
  if (!Real) return;
  class Watched extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: options && options.body, tag: options && options.tag });
    }
  }
  Watched.requestPermission = (...args) => { window.__asked += 1; return Real.requestPermission(...args); };
  window.Notification = Watched;
  window.__focused = false;
  document.hasFocus = () => window.__focused;  // another window is in front
})();
"""


async def shown(page: Any) -> list[dict[str, str]]:
    return await page.evaluate("() => window.__shown")


async def test_staff_are_notified_while_elsewhere(browser: Any, live_server: Any) -> None:
    dana = await log_in(browser, live_server, "engineer", {**DESKTOP, "permissions": ["notifications"]})
    sam = await log_in(browser, live_server, "engineer2")  # permission not granted
    try:
        d = dana.page
        await dana.context.add_init_script(WATCH)
        await sam.context.add_init_script(WATCH)
        await d.goto(f"{live_server.url}/tickets")
        await expect(d.locator("#list-conn")).to_have_text("Live")
        assert await d.evaluate("() => Notification.permission") == "granted"
        assert await d.evaluate("() => window.__asked") == 0  # never asked on load
        await expect(d.locator("[data-desktop-prompt]")).to_be_hidden()  # already on: no prompt

        ticket = await live_server.new_ticket("Label printer offline", "It shows error E42.")
        dana_id = user(live_server, "engineer")["id"]
        await act(live_server, "engineer2", {"type": "assign", "topic": f"ticket:{ticket}", "assignees": [dana_id]})
        await act(live_server, "client", {"type": "chat", "topic": f"ticket:{ticket}",
                                          "body": "I restarted it and it still says E42. NOTE-ME-1"})
        await d.wait_for_function("() => window.__shown.length >= 2")  # the assignment, then the message
        assigned, wrote = await shown(d)
        assert assigned["title"] == f"Sam Senior assigned you to #{ticket}"
        assert wrote["title"] == f"Alice Client wrote on #{ticket}"
        assert "Label printer offline" in wrote["body"] and "NOTE-ME-1" in wrote["body"]
        assert wrote["tag"].startswith(f"livesupport:message:{ticket}:")

        other = await live_server.new_ticket("Projector flickers", "In room 3.")
        await act(live_server, "engineer2", {"type": "invite", "topic": f"ticket:{other}", "user_id": dana_id,
                                             "message": "Bring the HDMI tester"})
        await d.wait_for_function("() => window.__shown.length >= 3")
        invited = (await shown(d))[2]
        assert invited["title"] == f"Sam Senior invited you to #{other}"
        assert "Bring the HDMI tester" in invited["body"]
        await expect(d.locator('#notices .notice[data-kind="invited"]')).to_have_count(1)  # and in the page

        # In front, the page itself is enough: no system notification.
        await d.evaluate("() => { window.__focused = true; }")
        await act(live_server, "client", {"type": "chat", "topic": f"ticket:{ticket}", "body": "Any news?"})
        await d.wait_for_timeout(1_000)
        assert len(await shown(d)) == 3
        await expect(d.locator('#notices .notice[data-kind="message"]')).to_have_count(0)

        # Sam never allowed them: the account page offers the button, and asks only when it is clicked.
        s = sam.page
        await s.goto(f"{live_server.url}/account")
        button = s.get_by_role("button", name="Turn on desktop notifications")
        await expect(button).to_be_visible()
        await expect(s.locator("[data-desktop-notify-state]")).to_contain_text("Off.")
        assert await s.evaluate("() => window.__asked") == 0
        await button.click()
        await s.wait_for_function("() => window.__asked === 1")
        for person in (dana, sam):
            person.assert_clean()
    finally:
        for person in (dana, sam):
            await person.context.close()


async def test_a_client_follows_and_unfollows_from_the_ticket_page(browser: Any, live_server: Any) -> None:
    ticket = await live_server.new_ticket("Keyboard missing keys", "The E key fell off.")
    sam = await log_in(browser, live_server, "engineer2")
    bob = await log_in(browser, live_server, "client2", PHONE)
    try:
        # Staff keep Alice's colleague informed from the ticket page.
        s = sam.page
        await sam.open_ticket(live_server.url, ticket)
        await more_action(s, "open-contact-follow")
        await s.select_option("#contact-follow-user", label="Bob Client")
        await s.click("#contact-follow-send")
        await expect(s.locator("#contact-follow-note")).to_have_text("Bob Client will get e-mail about this ticket.")
        await expect(s.locator("#contact-follow-user option", has_text="Bob Client")).to_be_disabled()
        await expect(s.locator("#contact-follow-user option", has_text="Alice Client")).to_have_text(
            "Alice Client (informed)")  # she opened it

        b = bob.page
        await bob.open_ticket(live_server.url, ticket)
        button = b.locator("#follow-toggle")
        await expect(button).to_have_text("Following")
        await expect(b.locator("#follow-hint")).to_contain_text("(you were added to it)")
        await button.click()
        await expect(button).to_have_text("Follow")
        await expect(button).to_have_attribute("aria-pressed", "false")
        await button.click()
        await expect(button).to_have_text("Following")
        await expect(button).to_have_attribute("aria-pressed", "true")
        await expect(b.locator("#follow-hint")).to_have_text(
            "You get an e-mail about changes while you are away (you follow it).")
        await b.reload()
        await expect(b.locator("#follow-toggle")).to_have_text("Following")
        await fits_the_phone(b)
        await bob.shot("follow-on-phone")
        await b.locator("#follow-toggle").click()
        await expect(b.locator("#follow-toggle")).to_have_text("Follow")

        bob.assert_clean()
        # E-mail preferences, on a phone: an account of the test's own, as they stay changed.
        await bob.context.close()
        bob = await log_in(browser, live_server, await live_server.new_user(), PHONE)
        b = bob.page
        await b.goto(f"{live_server.url}/account")
        await expect(b.locator("#notify-form")).to_be_visible()
        await expect(b.locator("#desktop-notifications")).to_have_count(0)  # staff only
        await b.locator('input[name="mode"][value="daily"]').check()
        await b.select_option("#digest-hour", "7")
        await b.click("#notify-save")
        await expect(b.locator("#account-saved")).to_have_text("Your e-mail preferences were saved.")
        await expect(b.locator('input[name="mode"][value="daily"]')).to_be_checked()
        await expect(b.locator("#digest-hour")).to_have_value("7")
        await fits_the_phone(b)
        await bob.shot("notification-preferences-on-phone")
        for person in (sam, bob):
            person.assert_clean()
    finally:
        for person in (sam, bob):
            await person.context.close()
