"""Signing in with a real browser: the bare domain, two-factor set-up and sign-in, a sign-in link read from the
outbox, a recovery code, and the account page on a phone.

Uses a domain administrator of a new organisation of its own: two-factor is turned on and off here.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pyotp

from tests.browser.helpers import DESKTOP, PHONE, Person, expect, fits_the_phone, log_in
from tests.conftest import PASSWORD
from tests.conftest import new_person as new_account


async def new_person(browser: Any, options: dict[str, Any] | None = None) -> Person:
    context = await browser.new_context(**(options or DESKTOP))
    return Person(context, await context.new_page())


async def password_step(p: Person, base: str, login: str, password: str) -> None:
    await p.page.goto(f"{base}/login")
    await p.page.fill("#email", login)
    await p.page.fill("#password", password)
    await p.page.click("#login-submit")


async def test_two_factor_and_sign_in_links_in_the_browser(browser: Any, live_server: Any) -> None:
    base = live_server.url
    tag = secrets.token_hex(3)
    key = await new_account(live_server._deployment, role="domain_admin", org=f"Clinic {tag}",
                                    domain=f"clinic-{tag}.test")
    email, password = live_server._deployment.users[key]["email"], PASSWORD
    admin = await new_person(browser)
    root: Person | None = None
    try:
        page = admin.page
        # The bare domain signs a domain administrator in.
        await password_step(admin, base, f"clinic-{tag}.test", password)
        await page.wait_for_url(re.compile(r"/tickets$"))
        await page.click("#account-link")
        await expect(page.locator("#two-factor-state")).to_contain_text("Off")
        await page.click("#two-factor-start")
        await expect(page.locator("#totp-qr svg")).to_be_visible()
        totp = pyotp.TOTP((await page.locator("#totp-secret").inner_text()).strip())
        await page.fill("#confirm-code", totp.now())
        await page.click("#two-factor-confirm button[type=submit]")
        codes = [c.strip() for c in await page.locator("#recovery-codes code").all_inner_texts()]
        assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", c) for c in codes)
        await admin.shot("account-recovery-codes")
        await page.get_by_role("link", name="I have saved them").click()
        await expect(page.locator("#two-factor-state")).to_contain_text("On")
        await page.click("#logout")

        # Password, then the code of the app.
        await password_step(admin, base, email, password)
        await page.wait_for_url(re.compile(r"/login/code$"))
        await page.fill("#code", "000000")
        await page.click("#code-submit")
        await expect(page.locator("#code-error")).to_contain_text("not right")
        await page.fill("#code", totp.at(time.time() + 30))  # the set-up used the current step
        await page.click("#code-submit")
        await page.wait_for_url(re.compile(r"/tickets$"))
        await page.click("#logout")

        # A sign-in link, read where the desk keeps its mail without SMTP: the outbox.
        await page.goto(f"{base}/login")
        await page.click("#magic-link")
        await page.fill("#email", email)
        await page.click("#link-submit")
        await expect(page.locator("#link-sent")).to_contain_text("on its way")
        root = await log_in(browser, live_server, "admin")
        await root.page.goto(f"{base}/outbox")
        newest = root.page.locator("#outbox-list .outbox-item").filter(has_text=email).first
        body = await newest.locator(".outbox-body").inner_text()
        link = re.search(r"http://\S+/login/link/\S+", body).group(0)  # type: ignore[union-attr]
        await page.goto(link)
        await page.click("#link-open-submit")
        await page.wait_for_url(re.compile(r"/login/code$"))  # the link replaces the password, not the code
        await page.fill("#code", codes[0])
        await page.click("#code-submit")
        await page.wait_for_url(re.compile(r"/tickets$"))

        # The account page on a phone, and 2FA off again.
        phone = await admin.context.browser.new_context(**PHONE, storage_state=await admin.context.storage_state())
        try:
            small = await phone.new_page()
            await small.goto(f"{base}/account")
            await expect(small.locator("#two-factor-state")).to_contain_text("9 recovery codes left")
            await fits_the_phone(small)
        finally:
            await phone.close()
        await page.goto(f"{base}/account")
        await page.fill("#off-code", codes[1])
        await page.click("#two-factor-off button[type=submit]")
        await expect(page.locator("#account-saved")).to_contain_text("off")
        admin.assert_clean(allow=("status of 401",))  # the wrong code above is answered 401, as it should
    finally:
        await admin.context.close()
        if root is not None:
            await root.context.close()
