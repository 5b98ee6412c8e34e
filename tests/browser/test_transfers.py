"""Transfers in a real browser: the survey, each party's own page and the staff's, all live.

A client nobody knows fills the survey step by step (going back once, saving, and finishing from the resume link
in another browser), files it, and confirms from the link in their e-mail. The current partner signs the waiver
and the new provider accepts, each from their own link in a browser of their own; a Level 2 engineer watches the
board and the transfer page. Every open page follows each step without a reload, until staff complete the
transfer and every page says so. Then: wrong answers in the survey, and the pages on a phone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

from tests.browser.helpers import DESKTOP, LIVE, PHONE, Person, expect, log_in
from tests.web.transfer_helpers import answers, file_transfer, link_for, party_post, visitor

MARK = "window.__sameDocument"  # set on a page to tell a live update from a reload


def step_text(number: int) -> re.Pattern[str]:
    return re.compile(rf"^\s*Step {number} of 7\s*$")


def from_address() -> str:
    """A client address of the context's own: the survey's throttle counts per address."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


async def new_person(browser: Any, options: dict[str, Any] | None = None) -> Person:
    """Someone not signed in, in a browser context of their own."""
    context = await browser.new_context(**(options or DESKTOP), extra_http_headers={"X-Forwarded-For": from_address()})
    return Person(context, await context.new_page())


@asynccontextmanager
async def people(*persons: Person) -> AsyncIterator[tuple[Person, ...]]:
    try:
        yield persons
    finally:
        for person in persons:
            await person.context.close()


async def fill_step(page: Any, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        if name in ("reason", "destination"):
            await page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif name == "partner_org_id":
            continue  # "not in the list": the partner's name is typed
        else:
            await page.locator(f"#{name}").fill(value)


async def next_step(page: Any, number: int) -> None:
    """Press Continue on step `number`; the next step shows."""
    await expect(page.locator("#survey-progress-text")).to_have_text(step_text(number))
    await page.locator("#survey-next").click()
    await expect(page.locator("#survey-progress-text")).to_have_text(step_text(number + 1))


async def open_live(person: Person, url: str) -> None:
    await person.page.goto(url)
    try:
        await expect(person.page.locator("#transfer-conn")).to_have_text(LIVE)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nwhat the page said: {person.problems}") from None


async def mark(page: Any) -> None:
    await page.evaluate(f"() => {{ {MARK} = true; }}")


async def still_same_document(page: Any, who: str) -> None:
    assert await page.evaluate(f"() => {MARK} === true"), f"{who}'s page was reloaded instead of updated live"


def milestone(page: Any, kind: str) -> Any:
    return page.locator(f'#transfer-milestones li[data-kind="{kind}"]')


def board_row(page: Any, transfer_id: int) -> Any:
    return page.locator(f'#transfer-rows li.transfer-row[data-id="{transfer_id}"]')


async def no_sideways_scroll(page: Any, what: str) -> None:
    """Nothing is wider than the screen: no sideways scrolling on a phone."""
    wide = await page.evaluate(
        """() => ({ page: document.documentElement.scrollWidth, screen: innerWidth,
                   culprits: [...document.querySelectorAll('body *')]
                     .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
                     .slice(0, 5).map((el) => el.id || el.className || el.tagName) })"""
    )
    assert wide["page"] <= wide["screen"], f"{what}: {wide['page']}px wide on a {wide['screen']}px screen: {wide}"


async def test_a_whole_transfer_with_three_parties_live_in_four_browsers(browser: Any, live_server: Any) -> None:
    d = live_server._deployment
    given = answers(f"b{secrets.token_hex(3)}")
    client_mail, partner_mail, provider_mail = (given[1]["contact_email"], given[3]["partner_email"],
                                                given[4]["provider_email"])
    staff = await log_in(browser, live_server, "engineer", next_path="/transfers")
    async with people(staff, await new_person(browser), await new_person(browser)) as (_, first, client):
        board = staff.page
        await expect(board.locator("#transfer-conn")).to_have_text(LIVE)

        # -- the survey, in the browser, step by step
        page = first.page
        await page.goto(f"{live_server.url}/transfer")
        await expect(page.locator("#survey-title")).to_have_text("You")
        await expect(page.locator("#survey-back")).to_have_count(0)
        await fill_step(page, given[1])
        await next_step(page, 1)
        await expect(page.locator("#survey-title")).to_have_text("Why")
        await fill_step(page, given[2])
        await next_step(page, 2)
        await fill_step(page, given[3])
        await next_step(page, 3)

        # Back once: the partner's answers are all still there.
        await expect(page.locator("#provider-fields")).to_be_visible()
        await page.locator("#survey-back").click()
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(3))
        for name in ("partner_name", "partner_contact", "partner_email"):
            await expect(page.locator(f"#{name}")).to_have_value(given[3][name])
        await next_step(page, 3)

        # Step 4: "directly to us" needs no provider, so its fields go away until another partner is chosen.
        await page.locator('input[name="destination"][value="vendor"]').check()
        await expect(page.locator("#provider-fields")).to_be_hidden()
        await page.locator('input[name="destination"][value="partner"]').check()
        await expect(page.locator("#provider-fields")).to_be_visible()
        await fill_step(page, given[4])
        await next_step(page, 4)
        await fill_step(page, given[5])
        await first.shot("transfer-survey-step5")

        # Save and finish later: the link to carry on, with a button to copy it.
        await page.locator("#survey-save").click()
        await expect(page.locator("#survey-notice")).to_contain_text("Saved")
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(5))
        resume = page.locator("#resume-link")
        await expect(resume).to_have_value(re.compile(r"^https?://.+/transfer/resume/[\w-]+$"))
        await page.locator("#resume-copy").click()
        await expect(page.locator("#resume-copy-status")).to_have_text(re.compile(r"link is (copied|selected)"))
        resume_url = await resume.input_value()
        await first.shot("transfer-survey-saved")
        first.assert_clean()

        # ...and finishes in another browser, from the link.
        page = client.page
        await page.goto(resume_url)
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(5))
        await expect(page.locator("#services_other")).to_have_value(given[5]["services_other"])
        await next_step(page, 5)
        await expect(page.locator("#desired_date")).to_have_attribute("min", re.compile(r"^\d{4}-\d\d-\d\d$"))
        await fill_step(page, given[6])
        await next_step(page, 6)
        review = page.locator("#survey-review")
        for text in (given[1]["org_name"], client_mail, given[3]["partner_name"], given[4]["provider_name"],
                     given[5]["services_other"], given[6]["desired_date"]):
            await expect(review).to_contain_text(text)
        await client.shot("transfer-survey-review")
        await page.locator("#survey-submit").click()
        await expect(page.locator("#transfer-filed")).to_contain_text(client_mail)
        transfer_id = int(re.findall(r"\d+", await page.locator(".eyebrow").first.text_content() or "")[0])
        await client.shot("transfer-filed")

        # The board shows it at once.
        row = board_row(board, transfer_id)
        await expect(row).to_contain_text(given[1]["org_name"])
        await expect(row).to_have_attribute("data-state", "unconfirmed")
        await expect(row).to_contain_text("0 of 5 steps")
        await staff.shot("transfers-board")

        # -- the client confirms from the link in their e-mail
        tid, client_token = await link_for(d, client_mail)
        assert tid == transfer_id
        await open_live(client, f"{live_server.url}/transfer/{tid}/p/{client_token}")
        await expect(milestone(client.page, "confirm")).to_have_attribute("data-state", "active")
        # Staff have the transfer open too, in a second tab.
        desk = Person(staff.context, await staff.context.new_page())
        await open_live(desk, f"{live_server.url}/transfers/{tid}")
        await expect(desk.page.locator("#staff-confirm")).to_be_visible()
        await client.page.locator("#confirm").click()
        await expect(client.page.locator("#transfer-done")).to_contain_text("your request is confirmed")
        await expect(milestone(client.page, "confirm")).to_have_attribute("data-state", "done")
        await expect(client.page.locator("#transfer-conn")).to_have_text(LIVE)
        # Staff no longer need to confirm for the client: their page shows what applies now by itself.
        await expect(milestone(desk.page, "confirm")).to_have_attribute("data-state", "done")
        await expect(desk.page.locator("#staff-confirm")).to_have_count(0)
        await expect(desk.page.locator("#transfer-conn")).to_have_text(LIVE)
        await expect(row).to_contain_text("1 of 5 steps")

        # -- the partner and the new provider open their links
        _, partner_token = await link_for(d, partner_mail)
        _, provider_token = await link_for(d, provider_mail)
        partner, provider = await new_person(browser), await new_person(browser)
        async with people(partner, provider):
            await open_live(partner, f"{live_server.url}/transfer/{tid}/p/{partner_token}")
            await open_live(provider, f"{live_server.url}/transfer/{tid}/p/{provider_token}")
            await expect(partner.page.locator("#waiver-text")).to_contain_text("Waiver of transfer")
            await expect(provider.page.locator("#accept")).to_be_visible()
            await partner.shot("transfer-partner")
            for person in (client, provider, desk):
                await mark(person.page)

            # The partner signs: typed name and the consent box.
            await partner.page.locator("#full_name").fill("Pat Old")
            await partner.page.locator("#consent").check()
            await partner.page.locator("#sign").click()
            await expect(partner.page.locator("#transfer-done")).to_contain_text("the waiver is signed")
            await expect(milestone(partner.page, "partner")).to_have_attribute("data-state", "done")
            for person, who in ((client, "the client"), (provider, "the provider"), (desk, "staff")):
                await expect(milestone(person.page, "partner")).to_have_attribute("data-state", "done")
                await expect(milestone(person.page, "partner")).to_contain_text("Waiver signed")
                await still_same_document(person.page, who)
            await expect(provider.page.locator("#accept")).to_be_visible()  # their own step is still theirs
            await expect(row).to_contain_text("2 of 5 steps")
            await client.shot("transfer-client-live")

            # The provider accepts: now it is the staff's turn, and their page shows the button for it.
            await mark(partner.page)
            await provider.page.locator("#accept").click()
            await expect(provider.page.locator("#transfer-done")).to_contain_text("Thank you for accepting")
            for person, who in ((client, "the client"), (partner, "the partner")):
                await expect(milestone(person.page, "provider")).to_have_attribute("data-state", "done")
                await expect(milestone(person.page, "move")).to_have_attribute("data-state", "active")
                await still_same_document(person.page, who)
            await expect(desk.page.locator("#staff-move")).to_be_visible()
            await expect(milestone(desk.page, "move")).to_have_attribute("data-state", "active")
            await expect(desk.page.locator("#waiver-record")).to_contain_text("Pat Old")
            await expect(row).to_contain_text("3 of 5 steps")
            await desk.shot("transfer-staff")

            # Staff move the services, then complete the transfer.
            for person in (client, partner, provider):
                await mark(person.page)
            await desk.page.locator("#move-note").fill("Mailboxes moved to direct billing")
            await desk.page.locator("#staff-move").click()
            await expect(desk.page.locator("#transfer-done")).to_contain_text("moved")
            await expect(desk.page.locator("#staff-complete")).to_be_visible()
            for person, who in ((client, "the client"), (partner, "the partner"), (provider, "the provider")):
                await expect(milestone(person.page, "move")).to_have_attribute("data-state", "done")
                await expect(milestone(person.page, "complete")).to_have_attribute("data-state", "active")
                await still_same_document(person.page, who)
            await expect(row).to_contain_text("4 of 5 steps")

            await desk.page.locator("#staff-complete").click()
            await expect(desk.page.locator("#transfer-state")).to_have_text("Completed")
            await expect(desk.page.locator("#transfer-action")).to_have_count(0)
            for person in (client, partner, provider):
                await expect(person.page.locator("#transfer-state")).to_have_text("Completed")
                await expect(milestone(person.page, "complete")).to_have_attribute("data-state", "done")
                await expect(person.page.locator("#transfer-action")).to_contain_text("This transfer is completed")
                await expect(person.page.locator("#transfer-conn")).to_have_text(LIVE)
            await expect(row).to_have_attribute("data-state", "completed")
            await expect(board.locator("#transfer-rows .transfer-group-closed")).to_contain_text(given[1]["org_name"])
            await client.shot("transfer-client-completed")
            await staff.shot("transfers-board-completed")

            for person in (first, client, partner, provider, staff, desk):
                person.assert_clean()


async def test_wrong_answers_are_shown_by_the_fields_and_kept(browser: Any, live_server: Any) -> None:
    given = answers(f"w{secrets.token_hex(3)}", provider=False)
    async with people(await new_person(browser)) as (person,):
        page = person.page
        await page.goto(f"{live_server.url}/transfer")

        # Step 1: no name, and an address that is not one. Both said next to their field; what was typed stays.
        await page.locator("#org_name").fill(given[1]["org_name"])
        await page.locator("#contact_email").fill("hana-at-dental")
        await page.locator("#survey-next").click()
        await expect(page.locator("#survey-notice")).to_contain_text("Please check the answers marked below")
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(1))
        name_error = page.locator("#contact_name-error")
        await expect(name_error).to_have_text("Enter your full name.")
        await expect(page.locator(".field-invalid").filter(has=page.locator("#contact_name"))).to_contain_text(
            "Enter your full name.")
        await expect(page.locator("#contact_email-error")).to_contain_text("is not an e-mail address")
        await expect(page.locator("#contact_email")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#contact_name")).to_have_attribute("aria-describedby", "contact_name-error")
        await expect(page.locator("#contact_email")).to_have_value("hana-at-dental")
        await expect(page.locator("#org_name")).to_have_value(given[1]["org_name"])
        await expect(page.locator("#org_name-error")).to_have_count(0)
        await expect(page.locator("#contact_name")).to_be_focused()  # the first answer to fix
        await person.shot("transfer-survey-errors")

        await fill_step(page, given[1])
        await next_step(page, 1)
        # Step 2: no reason chosen.
        await page.locator("#survey-next").click()
        await expect(page.locator("#reason-error")).to_contain_text("Choose why")
        await fill_step(page, given[2])
        await next_step(page, 2)
        await fill_step(page, given[3])
        await next_step(page, 3)
        await fill_step(page, given[4])  # directly to us
        await expect(page.locator("#provider-fields")).to_be_hidden()
        await next_step(page, 4)
        await fill_step(page, given[5])
        await next_step(page, 5)

        # Step 6: a date in the past is refused in words, and kept for correcting.
        past = (date.today() - timedelta(days=3)).isoformat()
        await page.locator("#desired_date").fill(past)
        await page.locator("#survey-next").click()
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(6))
        await expect(page.locator("#desired_date-error")).to_contain_text("has passed; choose today or a later date")
        await expect(page.locator("#desired_date")).to_have_value(past)
        await expect(page.locator("#desired_date")).to_have_attribute("aria-invalid", "true")
        await page.locator("#desired_date").fill(given[6]["desired_date"])
        await next_step(page, 6)
        await expect(page.locator("#survey-review")).to_contain_text("Directly to us")
        # "Change" goes back to the step, answers in place.
        await page.locator('#survey-review button[value="goto:1"]').first.click()
        await expect(page.locator("#survey-progress-text")).to_have_text(step_text(1))
        await expect(page.locator("#contact_email")).to_have_value(given[1]["contact_email"])
        person.assert_clean(allow=("status of 400",))  # the refused steps themselves: pages sent back with 400


async def test_the_survey_and_a_party_page_fit_a_phone(browser: Any, live_server: Any) -> None:
    d = live_server._deployment
    tag = f"p{secrets.token_hex(3)}"
    given = answers(tag)
    # Long words, as people have them: they wrap instead of widening the page.
    given[1]["org_name"] = f"Zahnarztpraxisgemeinschaftsverwaltungsgesellschaft{tag}"
    given[1]["contact_email"] = f"hana.harbour.front.desk.and.reception@harbour-dental-practice-{tag}.test"
    given[3]["partner_email"] = f"patricia.oldpartner.accounts@old-partner-managed-services-{tag}.test"
    async with people(await new_person(browser, PHONE)) as (person,):
        page = person.page
        await page.goto(f"{live_server.url}/transfer")
        await no_sideways_scroll(page, "survey step 1")
        await fill_step(page, given[1])
        await page.locator("#survey-save").click()
        await expect(page.locator("#resume-link")).to_have_value(re.compile(r"/transfer/resume/"))
        await no_sideways_scroll(page, "survey with the resume link")
        await person.shot("transfer-survey-phone-saved")
        await next_step(page, 1)
        await fill_step(page, given[2])
        await next_step(page, 2)
        await no_sideways_scroll(page, "survey step 3")
        person.assert_clean()

    async with visitor(live_server.url) as http:
        tid = await file_transfer(http, given)
        _, token = await link_for(d, given[1]["contact_email"])
        assert (await party_post(http, tid, token, "confirm")).status_code == 200
    _, partner_token = await link_for(d, given[3]["partner_email"])
    async with people(await new_person(browser, PHONE), await new_person(browser, PHONE)) as (partner, client):
        await open_live(partner, f"{live_server.url}/transfer/{tid}/p/{partner_token}")
        waiver = partner.page.locator("#waiver-text")
        await expect(waiver).to_be_visible()
        await no_sideways_scroll(partner.page, "the partner's page")
        wide = await waiver.evaluate("(el) => el.scrollWidth - el.clientWidth")
        assert wide <= 0, f"the waiver scrolls sideways by {wide}px"
        await partner.shot("transfer-partner-phone")
        await open_live(client, f"{live_server.url}/transfer/{tid}/p/{token}")
        await no_sideways_scroll(client.page, "the client's page")
        await client.page.locator(".transfer-withdraw summary").click()
        await expect(client.page.locator("#withdraw")).to_be_visible()
        await no_sideways_scroll(client.page, "the client's page, withdrawing")
        await client.shot("transfer-client-phone")
        # A link that is not (or no longer) valid says so, on a phone too.
        await client.page.goto(f"{live_server.url}/transfer/{tid}/p/{partner_token[:-4]}AAAA")
        await expect(client.page.locator("#link-error")).to_contain_text("not valid")
        await no_sideways_scroll(client.page, "a link that is not valid")
        partner.assert_clean()
        client.assert_clean(allow=("status of 403",))  # the refused link itself

    # Staff on a phone: the board and the transfer, with every party's address.
    staff = await log_in(browser, live_server, "engineer", PHONE, next_path="/transfers")
    async with people(staff):
        await expect(staff.page.locator("#transfer-conn")).to_have_text(LIVE)
        await expect(board_row(staff.page, tid)).to_be_visible()
        await no_sideways_scroll(staff.page, "the board")
        await staff.shot("transfers-board-phone")
        await open_live(staff, f"{live_server.url}/transfers/{tid}")
        await expect(staff.page.locator("#transfer-parties")).to_contain_text(given[3]["partner_email"])
        await no_sideways_scroll(staff.page, "staff's transfer page")
        await staff.shot("transfer-staff-phone")
        staff.assert_clean()
