"""What the browser tests share: people in browser contexts, logging in, and acting as a user over the API."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import LiveServer, token_for
from tests.utils import Client, ws_client

PLAYWRIGHT_MISSING = ""
try:
    from playwright import async_api as playwright_api

    expect = playwright_api.expect
except ImportError as exc:  # the `browser` fixture says so: a skip here, a failure with CI=true
    playwright_api = None  # type: ignore[assignment]
    expect = None  # type: ignore[assignment]
    PLAYWRIGHT_MISSING = str(exc)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = os.environ.get("LIVESUPPORT_SCREENSHOTS")
DESKTOP = {"viewport": {"width": 1280, "height": 860}}
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LIVE = re.compile(r"^\s*Live\s*$")

if expect is not None:
    expect.set_options(timeout=10_000)


class Person:
    """One user in their own browser context, with what the page said to the console."""

    def __init__(self, context: Any, page: Any) -> None:
        self.context = context
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, msg: Any) -> None:
        text = msg.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"CSP: {text}")
        elif msg.type == "error" and "favicon" not in text and "/feedback" not in text:
            self.problems.append(f"console error: {text}")

    async def my_id(self) -> str:
        return await self.page.locator("#ticket-page").get_attribute("data-me-id")

    async def my_name(self) -> str:
        return await self.page.locator("#ticket-page").get_attribute("data-me-name")

    async def open_ticket(self, base: str, ticket_id: int) -> None:
        await self.page.goto(f"{base}/tickets/{ticket_id}")
        try:
            await expect(self.page.locator("#conn-state")).to_have_text(LIVE)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nwhat the page said: {self.problems}") from None

    async def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)

    def assert_clean(self, allow: tuple[str, ...] = ()) -> None:
        problems = [p for p in self.problems if not any(a in p for a in allow)]
        assert not problems, "\n".join(problems)


async def log_in(
    browser: Any,
    live_server: Any,
    who: str,
    options: dict[str, Any] | None = None,
    next_path: str = "/tickets",
) -> Person:
    context = await browser.new_context(**(options or DESKTOP))
    page = await context.new_page()
    person = Person(context, page)
    email, password = live_server.users[who]
    await page.goto(f"{live_server.url}/login?next={next_path}")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("#login-submit")
    await page.wait_for_url(re.compile(re.escape(next_path) + r"$"))
    return person


def message(page: Any, text: str, visibility: str | None = None) -> Any:
    selector = "#messages li.msg" + (f'[data-visibility="{visibility}"]' if visibility else "")
    return page.locator(selector).filter(has_text=text)


async def send(person: Person, text: str) -> None:
    page = person.page
    await page.fill("#message", text)
    await page.click("#send")
    mine = message(page, text)
    # "Sending…" until the server's ok, then a stored message with its seq.
    await expect(mine).to_have_count(1)
    await expect(mine).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    await expect(mine).not_to_contain_text("Sending…")
    await expect(page.locator("#message")).to_have_value("")


def user(live_server: LiveServer, who: str) -> dict[str, Any]:
    """The seeded test user: id, name, email, org_id."""
    return live_server._deployment.users[who]


async def token(live_server: LiveServer, who: str) -> str:
    return await token_for(live_server._server, live_server._deployment, who)


@asynccontextmanager
async def acting_as(live_server: LiveServer, who: str) -> AsyncIterator[Client]:
    """A protocol client for `who`, to act on a ticket while the browser watches."""
    async with ws_client(live_server._server, await token(live_server, who)) as client:
        yield client


async def act(live_server: LiveServer, who: str, frame: dict[str, Any]) -> dict[str, Any]:
    """Send one frame as `who` and return the server's reply, which must be ok."""
    async with acting_as(live_server, who) as client:
        reply = await client.request(frame)
    assert reply.get("ok") is True, reply
    return reply


async def upload(
    live_server: LiveServer,
    who: str,
    ticket_id: int,
    files: list[tuple[str, bytes, str]],
    **form: str,
) -> httpx.Response:
    """POST files to a ticket as `who` with a bearer token."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        return await http.post(
            f"/api/tickets/{ticket_id}/attachments",
            files=[("file", f) for f in files],
            data=form,
            headers={"Authorization": f"Bearer {await token(live_server, who)}"},
        )


async def fits_the_phone(page: Any) -> None:
    """Nothing is wider than the screen, and every control is a 44px tap target."""
    width = await page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide on a 375px phone"
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, .button, #message, select, input:not([type=hidden]), .main-nav a')]
             .filter((el) => el.offsetParent !== null)
             .filter((el) => { const target = ['checkbox', 'radio'].includes(el.type) ? el.closest('label, span') || el : el;
                               return target.getBoundingClientRect().height < 44; })
             .map((el) => el.id || el.className || el.tagName)"""
    )
    assert not small, f"tap targets under 44px: {small}"


async def more_action(page: Any, item_id: str) -> None:
    """Open a staff action with fields: its dialog is behind the ticket page's "More actions" menu."""
    await page.click("#more-actions")
    await page.click(f"#{item_id}")
    await expect(page.locator(f"#{item_id}")).to_be_hidden()  # the menu closed; the dialog is open
