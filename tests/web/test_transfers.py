"""Transfers over plain HTTP against a real server, on SQLite and PostgreSQL: a whole transfer with three parties,
each acting from the link in their own e-mail; filing twice; forged, altered, other-transfer, revoked and
expired links; the waiver kept unchanged; a silent partner escalated by `livesupport worker --once --now`."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update

from livesupport.actions.transfer_links import PartyLinks
from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.models import Transfer, TransferWaiver
from tests.conftest import Deployment, new_person
from tests.utils import Server, cli, csrf_of, signed_in
from tests.web.transfer_helpers import (
    answers,
    file_transfer,
    link_for,
    mails_to,
    party_post,
    step,
    visitor,
    waiver_hash,
)


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def staff_view(srv: Server, d: Deployment, transfer_id: int) -> dict:  # type: ignore[type-arg]
    async with signed_in(srv, d.users["engineer"]["email"]) as staff:
        r = await staff.get(f"/api/transfers/{transfer_id}", headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


async def staff_act(srv: Server, d: Deployment, transfer_id: int, action: str, **fields: str) -> httpx.Response:
    async with signed_in(srv, d.users["engineer"]["email"]) as staff:
        page = await staff.get(f"/transfers/{transfer_id}")
        assert page.status_code == 200, page.text[-1500:]
        return await staff.post(f"/transfers/{transfer_id}/{action}", data={"csrf": csrf_of(page.text), **fields})


def milestone(view: dict, kind: str) -> dict:  # type: ignore[type-arg]
    return next(m for m in view["milestones"] if m["kind"] == kind)


async def test_a_whole_transfer_with_three_parties(server: Server, d: Deployment) -> None:
    given = answers()
    client_mail, partner_mail, provider_mail = (given[1]["contact_email"], given[3]["partner_email"],
                                                given[4]["provider_email"])
    async with visitor(server.url) as client:
        transfer_id = await file_transfer(client, given)
        # Filing again (the button pressed twice, or the page re-posted) files nothing new.
        again = await step(client, 7, {}, "submit")
        assert again.status_code == 303
        assert f"Transfer {transfer_id}" in (await client.get("/transfer")).text

    view = await staff_view(server, d, transfer_id)
    assert view["state"] == "unconfirmed" and milestone(view, "confirm")["state"] == "active"
    assert [m["kind"] for m in view["milestones"]] == ["confirm", "partner", "provider", "move", "complete"]
    # Nobody but the requester hears of it before they confirm.
    assert await mails_to(d, partner_mail) == [] and await mails_to(d, provider_mail) == []

    tid, client_token = await link_for(d, client_mail)
    assert tid == transfer_id
    async with visitor(server.url) as client:
        r = await party_post(client, tid, client_token, "confirm")
        assert r.status_code == 200 and "your request is confirmed" in r.text
        again = await client.post(f"/transfer/{tid}/p/{client_token}/confirm", data={"csrf": csrf_of(r.text)})
        assert again.status_code == 409 and "already done" in again.text

    _, partner_token = await link_for(d, partner_mail)
    _, provider_token = await link_for(d, provider_mail)
    assert len({client_token, partner_token, provider_token}) == 3
    async with visitor(server.url) as partner:
        page = await partner.get(f"/transfer/{tid}/p/{partner_token}")
        assert "Waiver of transfer" in page.text and given[1]["org_name"] in page.text
        # The partner's page shows no staff-only history and no contact details of the others.
        assert given[4]["provider_email"] not in page.text and given[1]["contact_email"] not in page.text
        unsigned = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Pat Old", "waiver_sha256": waiver_hash(page.text)})
        assert unsigned.status_code == 400 and "Tick the box" in unsigned.text
        assert 'value="Pat Old"' in unsigned.text  # what was typed is kept
        signed = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Pat Old", "consent": "yes",
            "waiver_sha256": waiver_hash(page.text)}, headers={"User-Agent": "PartnerBrowser/1.0"})
        assert signed.status_code == 303 and signed.headers["location"].endswith("?done=sign")
        after = await partner.get(signed.headers["location"])
        assert "the waiver is signed" in after.text and 'id="sign-form"' not in after.text

    async with visitor(server.url) as provider:
        assert (await party_post(provider, tid, provider_token, "accept")).status_code == 200

    view = await staff_view(server, d, transfer_id)
    assert milestone(view, "partner")["outcome"] == "signed"
    assert milestone(view, "provider")["outcome"] == "accepted"
    assert milestone(view, "move")["state"] == "active"
    waiver = view["waiver"]
    assert waiver["full_name"] == "Pat Old" and waiver["consent"] is True and waiver["user_agent"] == "PartnerBrowser/1.0"
    assert re.fullmatch(r"[0-9a-f]{64}", waiver["text_sha256"]) and "Waiver of transfer" in waiver["text"]

    # Staff cannot skip a step, then move and complete.
    early = await staff_act(server, d, transfer_id, "complete")
    assert early.status_code == 409 and "not been moved yet" in early.text
    assert (await staff_act(server, d, transfer_id, "move", note="Moved mailboxes to direct billing")).status_code == 303
    assert (await staff_act(server, d, transfer_id, "complete")).status_code == 303
    view = await staff_view(server, d, transfer_id)
    assert view["state"] == "completed" and all(m["state"] == "done" for m in view["milestones"])
    assert view["waiver"] == waiver  # unchanged by everything after signing
    for address in (client_mail, partner_mail, provider_mail):
        assert any("completed" in subject for subject, _ in await mails_to(d, address)), address

    # Done is done: a party acting on a completed transfer is told so.
    async with visitor(server.url) as partner:
        page = await partner.get(f"/transfer/{tid}/p/{partner_token}")
        assert "This transfer is completed" in page.text


async def test_the_waiver_record_cannot_be_changed_or_signed_twice(server: Server, d: Deployment) -> None:
    given = answers(provider=False)
    async with visitor(server.url) as client:
        tid = await file_transfer(client, given)
        _, token = await link_for(d, given[1]["contact_email"])
        await party_post(client, tid, token, "confirm")
    _, partner_token = await link_for(d, given[3]["partner_email"])
    async with visitor(server.url) as partner:
        page = await partner.get(f"/transfer/{tid}/p/{partner_token}")
        stale = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Pat Old", "consent": "yes", "waiver_sha256": "0" * 64})
        assert stale.status_code == 409 and "changed while you were reading" in stale.text
        ok = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Pat Old", "consent": "yes", "waiver_sha256": waiver_hash(page.text)})
        assert ok.status_code == 303
        twice = await partner.post(f"/transfer/{tid}/p/{partner_token}/sign", data={
            "csrf": csrf_of(page.text), "full_name": "Someone Else", "consent": "yes",
            "waiver_sha256": waiver_hash(page.text)})
        assert twice.status_code in (400, 409)

    db = Database(d.database_url)
    try:
        async with db.read() as s:
            before = (await s.execute(select(TransferWaiver).where(TransferWaiver.transfer_id == tid))).scalar_one()
            kept = (before.full_name, before.signed_at, before.text_sha256, before.client_address)
        # Not even the database owner can alter or delete the evidence: a trigger refuses both.
        for statement in (update(TransferWaiver).where(TransferWaiver.transfer_id == tid).values(full_name="Forged"),
                          text(f"DELETE FROM transfer_waivers WHERE transfer_id = {tid}")):
            with pytest.raises(Exception, match="signed waiver cannot be changed"):
                async with db.write() as s:
                    await s.execute(statement)
        async with db.read() as s:
            after = (await s.execute(select(TransferWaiver).where(TransferWaiver.transfer_id == tid))).scalar_one()
            assert (after.full_name, after.signed_at, after.text_sha256, after.client_address) == kept
            assert kept[0] == "Pat Old"
    finally:
        await db.dispose()


async def test_forged_altered_other_transfer_revoked_and_expired_links_are_refused(server: Server,
                                                                                     d: Deployment) -> None:
    first, second = answers(), answers()
    async with visitor(server.url) as client:
        tid = await file_transfer(client, first)
    async with visitor(server.url) as client:
        await file_transfer(client, second)
    _, token = await link_for(d, first[1]["contact_email"])
    _, other_token = await link_for(d, second[1]["contact_email"])

    async with visitor(server.url) as http:
        assert (await http.get(f"/transfer/{tid}/p/{token}")).status_code == 200
        cases = {
            "forged": "WzEsMSwxXQ.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "altered": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
            "another transfer's": other_token,
        }
        for what, bad in cases.items():
            r = await http.get(f"/transfer/{tid}/p/{bad}")
            assert r.status_code == 403 and "This link is not valid" in r.text, what
            act = await http.post(f"/transfer/{tid}/p/{bad}/confirm", data={"csrf": "x"})
            assert act.status_code == 403, what
        # A genuine link, but past its 30 days: refused, with a fresh one offered to the address on file.
        month_ago = FixedClock(datetime.now(UTC) - timedelta(days=31))
        party_id = (await staff_view(server, d, tid))["parties"]["requester"]["id"]
        old = PartyLinks("test-secret-key", 30, month_ago).make(tid, party_id, 1)
        expired = await http.get(f"/transfer/{tid}/p/{old}")
        assert expired.status_code == 403 and "expired" in expired.text and 'id="relink"' in expired.text
        sent_before = len(await mails_to(d, first[1]["contact_email"]))
        relinked = await http.post(f"/transfer/{tid}/p/{old}/relink", data={"csrf": csrf_of(expired.text)})
        assert relinked.status_code == 200 and 'id="relink-sent"' in relinked.text
        assert len(await mails_to(d, first[1]["contact_email"])) == sent_before + 1

    # Staff send a new link: the old one stops working, the new one works.
    assert (await staff_act(server, d, tid, "resend", role="requester")).status_code == 303
    _, fresh = await link_for(d, first[1]["contact_email"])
    async with visitor(server.url) as http:
        revoked = await http.get(f"/transfer/{tid}/p/{token}")
        assert revoked.status_code == 403 and "replaced by a newer one" in revoked.text
        assert (await http.get(f"/transfer/{tid}/p/{fresh}")).status_code == 200


async def test_only_staff_see_the_board_and_a_transfer(server: Server, d: Deployment) -> None:
    async with visitor(server.url) as client:
        tid = await file_transfer(client, answers())
    async with signed_in(server, d.users["client"]["email"]) as client:
        assert (await client.get("/transfers")).status_code == 404
        assert (await client.get(f"/transfers/{tid}")).status_code == 404
        assert (await client.get("/api/transfers")).status_code == 403
    async with signed_in(server, d.users["phone"]["email"]) as level1:
        assert (await level1.get(f"/transfers/{tid}")).status_code == 200  # Level 1 reads
        page = await level1.get(f"/transfers/{tid}")
        r = await level1.post(f"/transfers/{tid}/note", data={"csrf": csrf_of(page.text), "note": "hi"})
        assert r.status_code == 403 and "Only Level 2 and 3 engineers and admins" in r.text  # ...but does not act
    async with visitor(server.url) as anonymous:
        r = await anonymous.get("/transfers")
        assert r.status_code == 303 or "/login" in str(r.url)
    async with signed_in(server, d.users["engineer"]["email"]) as staff:
        board = await staff.get("/transfers")
        assert board.status_code == 200 and f'data-id="{tid}"' in board.text


async def test_a_silent_partner_is_escalated_and_the_transfer_goes_on(server: Server, d: Deployment) -> None:
    given = answers(provider=False)
    async with visitor(server.url) as client:
        tid = await file_transfer(client, given)
        _, token = await link_for(d, given[1]["contact_email"])
        await party_post(client, tid, token, "confirm")
    view = await staff_view(server, d, tid)
    due = datetime.fromisoformat(milestone(view, "partner")["due_at"].replace("Z", "+00:00"))
    partner_mail = given[3]["partner_email"]

    # Half a day before the deadline: one reminder, however often the worker runs.
    before = (due - timedelta(hours=12)).isoformat()
    for _ in range(2):
        run = await asyncio.to_thread(cli, d, "worker", "--once", "--now", before)
        assert run.returncode == 0, run.stderr
    reminders = [s for s, _ in await mails_to(d, partner_mail) if s.startswith("Reminder")]
    assert len(reminders) == 1, reminders

    # Past it: escalated to staff, the partner's step closed as unanswered, and the move starts without them.
    after = (due + timedelta(minutes=1)).isoformat()
    run = await asyncio.to_thread(cli, d, "worker", "--once", "--now", after)
    # (Other tests' transfers on this database may come due at that instant too.)
    assert run.returncode == 0 and "transfer escalations 0" not in run.stdout, run.stdout + run.stderr
    again = await asyncio.to_thread(cli, d, "worker", "--once", "--now", after)
    assert "transfer escalations 0" in again.stdout
    view = await staff_view(server, d, tid)
    assert milestone(view, "partner")["outcome"] == "no_answer"
    assert milestone(view, "move")["state"] == "active"
    assert view["escalated_at"] and "goes on without the current partner" in view["escalation"]
    async with signed_in(server, d.users["engineer"]["email"]) as staff:
        rows = (await staff.get("/api/transfers")).json()["transfers"]
    assert next(r for r in rows if r["id"] == tid)["needs_staff"] is True
    escalations = [s for s, _ in await mails_to(d, d.users["admin"]["email"]) if f"Transfer {tid} escalated" in s]
    assert len(escalations) == 1
    # The partner's link still opens their page, which now says nothing more is needed from them. (The first
    # link: the reminder's was signed at the worker's --now, days ahead of this server's clock.)
    _, partner_token = await link_for(d, partner_mail, newest=False)
    async with visitor(server.url) as partner:
        page = await partner.get(f"/transfer/{tid}/p/{partner_token}")
        assert "No answer by the deadline" in page.text and 'id="sign-form"' not in page.text


async def test_withdrawn_by_the_client_and_cancelled_by_staff(server: Server, d: Deployment) -> None:
    given = answers()
    async with visitor(server.url) as client:
        tid = await file_transfer(client, given)
        _, token = await link_for(d, given[1]["contact_email"])
        r = await party_post(client, tid, token, "withdraw", reason="We found our old partner again")
        assert r.status_code == 200 and "withdrawn" in r.text
    view = await staff_view(server, d, tid)
    assert view["state"] == "cancelled" and all(m["state"] in ("cancelled",) for m in view["milestones"])
    assert await mails_to(d, given[3]["partner_email"]) == []  # never confirmed: the partner never heard of it

    second = answers()
    async with visitor(server.url) as client:
        tid2 = await file_transfer(client, second)
    no_reason = await staff_act(server, d, tid2, "cancel", reason="  ")
    assert no_reason.status_code == 400 and "why the transfer is cancelled" in no_reason.text
    assert (await staff_act(server, d, tid2, "cancel", reason="Duplicate of another request")).status_code == 303
    assert (await staff_view(server, d, tid2))["state"] == "cancelled"


async def test_staff_notes_never_reach_a_party(server: Server, d: Deployment) -> None:
    given = answers()
    async with visitor(server.url) as client:
        tid = await file_transfer(client, given)
    assert (await staff_act(server, d, tid, "note", note="Client owes two months: check before moving")).status_code == 303
    _, token = await link_for(d, given[1]["contact_email"])
    async with visitor(server.url) as client:
        page = await client.get(f"/transfer/{tid}/p/{token}")
        status = await client.get(f"/transfer/{tid}/p/{token}/status")
    for body in (page.text, status.text):
        assert "owes two months" not in body
    assert "owes two months" in str(await staff_view(server, d, tid))


async def test_two_submissions_at_once_file_one_transfer(server: Server, d: Deployment) -> None:
    given = answers()
    async with visitor(server.url) as client:
        for number in range(1, 7):
            assert (await step(client, number, given[number])).status_code == 303
        page = await client.get("/transfer")
        form = {"csrf": csrf_of(page.text), "step": "7", "move": "submit"}
        results = await asyncio.gather(*(client.post("/transfer", data=form) for _ in range(4)))
        assert all(r.status_code == 303 for r in results), [r.status_code for r in results]
    db = Database(d.database_url)
    try:
        async with db.read() as s:
            filed = list((await s.execute(select(Transfer.id).where(Transfer.org_name == given[1]["org_name"]))).scalars())
    finally:
        await db.dispose()
    assert len(filed) == 1
    confirmations = [s for s, _ in await mails_to(d, given[1]["contact_email"]) if s == "Confirm your transfer request"]
    assert len(confirmations) == 1


BAD_ANSWERS = [
    # (step, field to spoil, bad value, what the page says, a value typed in that step that must be kept)
    (1, "org_name", "", "Enter your organisation", ("contact_name", "Hana Harbour")),
    (1, "org_name", "A" * 201, "at most 200 characters", ("contact_name", "Hana Harbour")),
    (1, "contact_email", "hana at dental", "is not an e-mail address", ("contact_email", "hana at dental")),
    (1, "contact_phone", "ring ring", "phone number has digits", ("org_name", None)),
    (2, "reason", "", "Choose why you are moving", ("reason_detail", "Our partner stopped answering in March.")),
    (3, "partner_email", "pat@", "is not an e-mail address", ("partner_contact", "Pat Old")),
    (3, "partner_contact", "", "Enter the name of your contact", ("partner_email", None)),
    (4, "provider_email", "", "Enter your contact", ("provider_name", None)),
    (5, "services_other", "", "Name the services to move", ("services_other", "")),
    (5, "services_other", "s" * 501, "At most 500 characters", ("services_other", "s" * 501)),
    (6, "desired_date", "2020-01-01", "has passed; choose today or a later date", ("desired_date", "2020-01-01")),
    (6, "desired_date", "", "Enter the date you would like", ("desired_date", "")),
]


@pytest.mark.parametrize(("number", "field", "bad", "says", "kept"), BAD_ANSWERS,
                         ids=[f"{s}-{f}-{'empty' if not b else 'bad'}" for s, f, b, *_ in BAD_ANSWERS])
async def test_each_survey_answer_refused_clearly_and_kept(server: Server, number: int, field: str, bad: str,
                                                           says: str, kept: tuple[str, str | None]) -> None:
    given = answers()
    async with visitor(server.url) as client:
        for earlier in range(1, number):
            assert (await step(client, earlier, given[earlier])).status_code == 303
        r = await step(client, number, {**given[number], field: bad})
        assert r.status_code == 400, r.text[-1500:]
        assert f'id="{field}-error"' in r.text or 'id="services-error"' in r.text
        assert says in r.text
        assert f"Step {number} of 7" in r.text  # still on the same step
        name, value = kept
        value = given[number][name] if value is None else value
        shown = re.search(rf'<(?:input|textarea)[^>]*\bid="{name}"[^>]*>', r.text)
        assert shown, name
        if shown.group(0).startswith("<textarea"):
            assert f"{shown.group(0)}{value}</textarea>" in r.text, (name, value)
        else:
            assert f'value="{value}"' in shown.group(0), (name, value, shown.group(0))
        # Going back and forth keeps every earlier answer too.
        if number > 1:
            back = await step(client, number, {**given[number], field: bad}, "back")
            assert back.status_code == 303
            earlier_page = (await client.get("/transfer")).text
            some = next(v for v in given[number - 1].values() if v and len(v) > 3)
            assert some.replace("'", "&#39;") in earlier_page
        assert await mails_to(server.deployment, given[1]["contact_email"]) == []  # type: ignore[attr-defined]


async def test_a_saved_survey_resumes_from_its_link_on_another_device(server: Server, d: Deployment) -> None:
    given = answers()
    async with visitor(server.url) as first:
        for number in range(1, 3):
            assert (await step(first, number, given[number])).status_code == 303
        saved = await step(first, 3, {**given[3], "partner_email": ""}, "email")  # saving never checks
        assert saved.status_code == 200 and "We e-mailed the link" in saved.text
    sent = await mails_to(d, given[1]["contact_email"])
    link = re.search(r"http://\S+/transfer/resume/([A-Za-z0-9_-]+)", sent[-1][1])
    assert link, sent
    async with visitor(server.url) as second:
        r = await second.get(f"/transfer/resume/{link.group(1)}", follow_redirects=True)
        assert "Step 3 of 7" in r.text and given[3]["partner_contact"] in r.text
        gone = await second.get("/transfer/resume/not-a-real-link", follow_redirects=True)
        assert gone.status_code == 404 and "expired or never existed" in gone.text


async def test_staff_link_an_anonymous_transfer_to_its_organisation_and_the_move_updates_it(
        server: Server, d: Deployment) -> None:
    given = answers()
    async with visitor(server.url) as client:
        tid = await file_transfer(client, given)
    acme = d.users["client"]["org_id"]
    async with signed_in(server, d.users["engineer"]["email"]) as staff:
        page = await staff.get(f"/transfers/{tid}")
        assert 'id="link-form"' in page.text and f'<option value="{acme}"' in page.text
        bad = await staff.post(f"/transfers/{tid}/link", data={"csrf": csrf_of(page.text), "org_id": "99999"})
        assert bad.status_code == 400 and "organisation from the list" in bad.text
        ok = await staff.post(f"/transfers/{tid}/link", data={"csrf": csrf_of(page.text), "org_id": str(acme)})
        assert ok.status_code == 303
        page = await staff.get(f"/transfers/{tid}")
        assert f"Yes (#{acme})" in page.text and 'id="link-form"' not in page.text
    view = await staff_view(server, d, tid)
    assert view["org_id"] == acme
    linked = [e for e in view["history"] if e["kind"] == "linked"]
    assert linked and linked[0]["staff_only"] is True


OPTIONAL = re.compile(r'<label for="([a-z_]+)">[^<]*<span class="optional">\(optional\)</span></label>')


async def test_every_field_labelled_optional_may_be_left_empty(server: Server, d: Deployment) -> None:
    """What the survey calls "(optional)" it accepts empty, and stores nothing for it; what it needs it never
    calls optional. With partners on record, step 3 offers a list *and* a name: one of the two is needed."""
    await new_person(d, "partner", org=f"Listed Partner {secrets.token_hex(3)}")  # the list of partners shows
    given = answers()
    left_empty: list[str] = []
    async with visitor(server.url) as client:
        for number in range(1, 7):
            page = (await client.get("/transfer")).text
            assert f"Step {number} of 7" in page
            for name in OPTIONAL.findall(page):
                r = await step(client, number, {**given[number], name: ""})
                assert r.status_code == 303, f"{name!r} is labelled optional but refused empty: {r.text[-1500:]}"
                left_empty.append(name)
                back = await step(client, number + 1, {}, "back") if number < 6 else None
                assert back is None or back.status_code == 303
            if number == 3:
                assert 'id="partner_org_id"' in page  # the list is there: the name alone is not needed
                r = await step(client, 3, {**given[3], "partner_name": ""})
                assert r.status_code == 400 and "Choose your partner from the list, or type its name" in r.text
            assert (await step(client, number, {**given[number], **{n: "" for n in left_empty}})).status_code == 303
    assert {"contact_phone", "partner_phone", "provider_phone"} <= set(left_empty)
    assert "partner_name" not in left_empty
