"""The billing pages over HTTP: the policy, an organisation's invoices, payments typed by a person, cancelling.

Each test makes an organisation of its own whose service starts months from now, so the server's own worker
(the real clock) never bills it; `livesupport worker --once --now` runs the billing months ahead instead.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import httpx
import pytest

from livesupport.clock import FixedClock
from livesupport.domain import billing as rules
from tests.conftest import PASSWORD, Deployment, LiveServer, _deployment
from tests.utils import cli, clocked_server, csrf_of

TZ = ZoneInfo("America/New_York")
POLICY = rules.Policy(TZ)


def months_ahead(n: int) -> date:
    """The 1st of the month `n` months after this one (the company's clock)."""
    day = datetime.now(UTC).astimezone(TZ).date().replace(day=1)
    for _ in range(n):
        day = (day + timedelta(days=32)).replace(day=1)
    return day


def local(day: date, hour: int, minute: int) -> str:
    return datetime.combine(day, time(hour, minute), TZ).isoformat()


@functools.cache
def period() -> date:
    """The month these tests bill: chosen when the first test asks (never at import), then fixed for the run."""
    return months_ahead(4)


def started() -> str:
    """When each test's service starts: free until period()'s 1st."""
    return local((period() - timedelta(days=1)).replace(day=10), 9, 0)


def deployment(live: LiveServer) -> Deployment:
    return live._deployment


async def run(d: Deployment, *args: str) -> str:
    done = await asyncio.to_thread(cli, d, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def new_customer(d: Deployment, cents: int = 2500) -> tuple[str, int]:
    """A new organisation with its domain administrator and one service; (admin e-mail, service id)."""
    tag = secrets.token_hex(3)
    email = f"it@pages-{tag}.test"
    await run(d, "user", "add", "--email", email, "--password", PASSWORD, "--role", "domain_admin",
              "--org", f"Pages clinic {tag}")
    added = await run(d, "service", "add", "--org", f"Pages clinic {tag}", "--name", "Mail filtering",
                      "--monthly-cents", str(cents), "--started", started())
    return email, int(re.search(r"added service (\d+)", added).group(1))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
async def billing_email(live_server: LiveServer) -> str:
    email = f"billing-{secrets.token_hex(3)}@support.test"
    await run(deployment(live_server), "user", "add", "--email", email, "--password", PASSWORD, "--role", "billing",
              "--name", "Bea Billing")
    return email


@asynccontextmanager
async def logged_in(live: LiveServer, email: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    async with logged_in_at(live.url, email, password) as http:
        yield http


@asynccontextmanager
async def logged_in_at(url: str, email: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/login")
        r = await http.post("/login", data={"email": email, "password": password, "csrf": csrf_of(page.text),
                                            "next": "/billing"})
        assert r.status_code == 303, r.text
        yield http


async def org_id_of(http: httpx.AsyncClient) -> int:
    """A domain administrator's organisation: /billing/orgs sends them to its page."""
    page = await http.get("/billing/orgs", follow_redirects=True)
    found = re.search(r"/billing/org/(\d+)", str(page.url))
    assert found, page.url
    return int(found.group(1))


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no #{element_id} in the page"
    return " ".join(unescape(found.group(1)).split())


async def test_the_policy_page_explains_every_rule_with_an_example(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        r = await http.get("/billing")  # no login needed
    assert r.status_code == 200
    page = " ".join(unescape(r.text).split())
    for words in ("due on the 1st", "free from sign-up until the next 1st", "$39.00 late fee at 12:01 AM on the 5th",
                  "$69.00 reconnection fee at 12:01 AM on the 15th", "Paying everything owed restores them at once",
                  "30 days' notice", "The last 3 business days before the 1st", "last 12 hours of the month",
                  "No one can override this", "America/New_York"):
        assert words in page, words
    assert page.count('class="billing-example-label">Example') >= 7
    # The examples are the rules' own answers for the next 1st.
    today = datetime.now(UTC).astimezone(TZ).date()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    late = rules.late_fee_due_at(POLICY, first).astimezone(TZ)
    assert f"Still unpaid at {late:%b} {late.day}, {late.year}, 12:01 AM {late.tzname()}: one $39.00 late fee" in page
    lock_from, _ = rules.cancellation_lock(POLICY, first - timedelta(days=1))
    locked = rules.cancellation(POLICY, lock_from, date(2020, 1, 10), True, 2500)
    assert locked.reason == rules.CANCELLATION_LOCKED and locked.explanation in page
    window = rules.business_days_before_first(POLICY, first)
    in_window = rules.cancellation(POLICY, datetime.combine(window[0], time(10), TZ), date(2020, 1, 10), True, 2500)
    assert in_window.explanation in page and "with no refund" in in_window.explanation


async def test_an_organisation_page_shows_the_late_fee_and_the_next_deadline(live_server: LiveServer) -> None:
    d = deployment(live_server)
    email, service_id = await new_customer(d)
    await run(d, "worker", "--once", "--now", local(period().replace(day=5), 0, 1))  # the invoice, then its fee
    async with logged_in(live_server, email) as http:
        org_id = await org_id_of(http)
        r = await http.get(f"/billing/org/{org_id}")
        api = (await http.get(f"/api/orgs/{org_id}")).json()
    assert r.status_code == 200
    html = r.text
    month = f"{period():%B} {period().year}"
    assert f'<a href="/billing/org/{org_id}" aria-current="page" id="billing-link">Billing</a>' in html
    invoice = html[html.index('class="card billing-invoice"'):]
    assert month in invoice and "Mail filtering" in invoice
    fee = re.search(r'<tr class="billing-line is-fee" data-kind="late_fee">(.*?)</tr>', invoice, re.S)
    assert fee and "Late fee" in fee.group(1) and "$39.00" in fee.group(1)
    assert "Amount due" in invoice and "$64.00" in invoice
    assert text_of(html, "owed") == "$64.00"
    # The next deadline and what missing it costs, as the API says it (the server's clock is the real one).
    deadline = text_of(html, "next-deadline")
    assert deadline == api["next_deadline"]["message"]
    assert re.fullmatch(r"Pay by \w{3} \d{1,2}, 12:01 AM E[SD]T to avoid a \$39\.00 late fee\.", deadline), deadline
    # A domain administrator sees what is owed but records no payment, and may cancel the service.
    assert 'action="/billing/org/' not in html
    assert f'href="/billing/services/{service_id}/cancel"' in html


async def test_a_payment_typed_wrong_is_refused_and_kept(live_server: LiveServer, billing_email: str) -> None:
    d = deployment(live_server)
    email, service_id = await new_customer(d)
    await run(d, "worker", "--once", "--now", local(period().replace(day=5), 0, 1))
    async with logged_in(live_server, email) as admin:
        org_id = await org_id_of(admin)
    async with logged_in(live_server, billing_email) as http:
        orgs = await http.get("/billing/orgs")
        assert orgs.status_code == 200 and f'href="/billing/org/{org_id}"' in orgs.text
        page = await http.get(f"/billing/org/{org_id}")
        token = csrf_of(page.text)
        invoice_id = int(re.search(r'name="invoice" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
        path = f"/billing/org/{org_id}/payments"

        async def pay(amount: str, csrf: str = token) -> httpx.Response:
            return await http.post(path, data={"csrf": csrf, "invoice": str(invoice_id), "amount": amount})

        for typed, status, says in [
            ("12,50", 400, "Put a point before the cents: 12.50"),
            ("twelve", 400, "is not an amount"),
            ("12.505", 400, "is not an amount"),
            ("-5", 400, "more than $0.00"),
            ("0.00", 400, "more than $0.00"),
            ("", 400, "Type the amount received"),
            ("1,000.00", 409, "more than this invoice's $64.00 due"),
        ]:
            r = await pay(typed)
            assert r.status_code == status, (typed, r.status_code)
            assert says in text_of(r.text, "pay-error"), (typed, text_of(r.text, "pay-error"))
            assert re.search(rf'id="amount-{invoice_id}"[^>]*value="{re.escape(typed)}"', r.text, re.S), typed
            assert 'aria-invalid="true"' in r.text
        forged = await pay("25.00", csrf="forged")
        assert forged.status_code == 403 and 'value="25.00"' in forged.text and "expired" in forged.text
        done = await pay(" $25.5 ")
        assert done.status_code == 303 and done.headers["location"] == f"/billing/org/{org_id}#invoice-{invoice_id}"
        after = await http.get(f"/billing/org/{org_id}")
        assert text_of(after.text, "billing-saved") == f"$25.50 recorded on the {period():%B} {period().year} invoice."
        assert text_of(after.text, f"due-{invoice_id}") == "$38.50"
        assert text_of(after.text, "owed") == "$38.50"
        assert 'id="billing-saved"' not in (await http.get(f"/billing/org/{org_id}")).text  # said once
        # An invoice of another organisation, or none, is refused at the top of the page.
        r = await http.post(path, data={"csrf": token, "invoice": "999999", "amount": "1.00"})
        assert r.status_code == 400 and "Choose one of this organisation's invoices" in text_of(r.text, "pay-error")


async def test_another_organisations_billing_is_not_found(live_server: LiveServer) -> None:
    d = deployment(live_server)
    email, service_id = await new_customer(d)
    other_email, other_service = await new_customer(d)
    async with logged_in(live_server, other_email) as other:
        other_org = await org_id_of(other)
    async with logged_in(live_server, email) as http:
        mine = await org_id_of(http)
        assert (await http.get(f"/billing/org/{mine}")).status_code == 200
        for path in (f"/billing/org/{other_org}", f"/billing/services/{other_service}/cancel", "/billing/org/999999"):
            r = await http.get(path)
            assert r.status_code == 404 and "not yours to see" in r.text, path
            assert "Pages clinic" not in r.text.split("<main", 1)[1], path
        # Recording a payment is for billing staff only, whatever the form says.
        page = await http.get(f"/billing/org/{mine}")
        r = await http.post(f"/billing/org/{mine}/payments", data={"csrf": csrf_of(page.text), "invoice": "1",
                                                                   "amount": "1.00"})
        assert r.status_code == 404
        r = await http.post(f"/billing/services/{other_service}/cancel", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 404
    email_client = live_server.users["outsider"][0]
    async with logged_in(live_server, email_client) as outsider:
        assert (await outsider.get(f"/billing/org/{mine}")).status_code == 404
        assert (await outsider.get("/billing/orgs")).status_code == 404
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        r = await anonymous.get(f"/billing/org/{mine}")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/billing/org/")


async def test_the_cancellation_form_shows_what_will_happen_before_confirming(
    live_server: LiveServer, billing_email: str
) -> None:
    d = deployment(live_server)
    email, service_id = await new_customer(d, cents=4200)
    form = f"/billing/services/{service_id}/cancel"
    # Billing staff preview at a chosen instant, with the notice and with it waived.
    asked = datetime.combine(period().replace(day=10), time(10), TZ)
    start_day = datetime.fromisoformat(started()).date()
    async with logged_in(live_server, billing_email) as staff:
        r = await staff.get(form, params={"at": asked.isoformat()})
        assert r.status_code == 200
        expected = rules.cancellation(POLICY, asked, start_day, False, 4200)
        assert expected.months_billed and expected.accepted
        assert text_of(r.text, "cancel-explanation") == expected.explanation
        assert f"at {asked:%b} 10, {asked.year}, 10:00" in text_of(r.text, "preview-at")
        billed = text_of(r.text, "outcome-billed")
        for month in expected.months_billed:
            assert f"{month:%B} {month.year}: $42.00" in r.text, billed
        assert 'id="waive"' in r.text and 'id="cancel-confirm"' not in r.text  # a preview at another time
        window = rules.business_days_before_first(POLICY, (period() + timedelta(days=32)).replace(day=1))
        in_window = datetime.combine(window[0], time(10), TZ)
        r = await staff.get(form, params={"at": in_window.isoformat(), "waive": "1"})
        waived = rules.cancellation(POLICY, in_window, start_day, True, 4200)
        assert "with no refund" in waived.explanation
        assert text_of(r.text, "cancel-explanation") == waived.explanation
        assert text_of(r.text, "outcome-notice") == "waived" and 'id="waive" checked' in r.text
    # The domain administrator previews "now", cannot waive, and confirms: on a server whose clock stands at
    # `asked` (a day the rules accept a cancellation), so the test never depends on when it runs. It has a
    # database of its own: at its instant, months ahead, every other session would have expired and be purged.
    async for own in _deployment("sqlite"):
        email, service_id = await new_customer(own, cents=4200)
        form = f"/billing/services/{service_id}/cancel"
        await confirm_at(own, asked, email, form, service_id, in_window, expected)


async def confirm_at(d: Deployment, asked: datetime, email: str, form: str, service_id: int, in_window: datetime,
                     expected: rules.CancellationOutcome) -> None:
    async with clocked_server(d.env(), FixedClock(asked.astimezone(UTC))) as url, \
            logged_in_at(url, email) as http:
        r = await http.get(form, params={"waive": "1", "at": in_window.isoformat()})  # neither is theirs to ask
        assert r.status_code == 200
        assert 'id="waive"' not in r.text and 'id="preview-at"' not in r.text
        assert "nothing changes until you confirm" in r.text
        assert "Service ends" in r.text and text_of(r.text, "outcome-refund").startswith("$0.00")
        explanation = text_of(r.text, "cancel-explanation")
        assert explanation == expected.explanation  # the rules' answer at the server's instant, not at `at`
        assert 'name="waive"' not in r.text.split('id="cancel-form"', 1)[1].split("</form>", 1)[0]
        done = await http.post(form, data={"csrf": csrf_of(r.text), "waive": "1"})
        assert done.status_code == 200, done.text
        assert text_of(done.text, "cancel-title") == "Mail filtering is cancelled"
        assert text_of(done.text, "cancel-done") == explanation  # what was shown is what happened
        org_id = await org_id_of(http)
        page = await http.get(f"/billing/org/{org_id}")
        assert f'data-service-id="{service_id}" data-status="cancelled"' in page.text
        assert f'href="{form}"' not in page.text
        again = await http.get(form)
        assert again.status_code == 409 and "already cancelled" in text_of(again.text, "cancel-error")


async def test_a_cancellation_in_the_last_12_hours_is_refused_with_its_reason(
    live_server: LiveServer, billing_email: str
) -> None:
    d = deployment(live_server)
    email, service_id = await new_customer(d)
    # The API answers what a cancellation would do at an instant: the issue's own example.
    async with logged_in(live_server, email) as http:
        token = (await http.post("/api/tokens", json={"email": email, "password": PASSWORD})).json()["token"]
        preview = f"/api/billing/cancellation-preview?service={service_id}&at="
        auth = {"Authorization": f"Bearer {token}"}
        open_ = (await http.get(preview + "2026-11-30T11:59:00-05:00", headers=auth)).json()
        locked = (await http.get(preview + "2026-11-30T12:00:00-05:00", headers=auth)).json()
    assert open_["accepted"] is True
    assert locked["accepted"] is False and locked["reason"] == "cancellation_locked"
    # The page says the same in plain words, with the reason and when to try again.
    last_day = period() - timedelta(days=1)
    noon = datetime.combine(last_day, time(12), TZ)
    async with logged_in(live_server, billing_email) as staff:
        r = await staff.get(f"/billing/services/{service_id}/cancel", params={"at": noon.isoformat(), "waive": "1"})
        assert r.status_code == 409
        assert '<div class="billing-refused" role="alert" id="cancel-refused" data-reason="cancellation_locked">' \
            in r.text
        refused = " ".join(unescape(r.text[r.text.index('id="cancel-refused"'):]).split())
        assert "cannot be cancelled then" in refused and "no one can override this, our staff included" in refused
        assert "<code>cancellation_locked</code>" in refused
        first = datetime.combine(period(), time(0), TZ)
        assert text_of(r.text, "retry-at") == f"{first:%b} 1, {first.year}, 12:00 AM {first.tzname()}"
        assert 'id="cancel-confirm"' not in r.text
        a_minute_before = await staff.get(f"/billing/services/{service_id}/cancel",
                                          params={"at": (noon - timedelta(minutes=1)).isoformat()})
        assert a_minute_before.status_code == 200 and 'id="cancel-refused"' not in a_minute_before.text
        bad = await staff.get(f"/billing/services/{service_id}/cancel", params={"at": "tomorrow"})
        assert bad.status_code == 400 and "ISO-8601" in text_of(bad.text, "cancel-error")


async def test_billing_staff_add_a_service_from_the_page(live_server: LiveServer, billing_email: str) -> None:
    email, _ = await new_customer(deployment(live_server))
    async with logged_in(live_server, email) as admin:
        org_id = await org_id_of(admin)
        page = await admin.get(f"/billing/org/{org_id}")
        assert 'id="add-service"' not in page.text  # a domain administrator cannot
        r = await admin.post(f"/billing/org/{org_id}/services",
                             data={"csrf": csrf_of(page.text), "name": "Archiving", "price": "12.00"})
        assert r.status_code == 404
    async with logged_in(live_server, billing_email) as staff:
        page = await staff.get(f"/billing/org/{org_id}")
        bad = await staff.post(f"/billing/org/{org_id}/services",
                               data={"csrf": csrf_of(page.text), "name": "Archiving", "price": "twelve"})
        assert bad.status_code == 400 and 'id="service-error"' in bad.text
        assert 'value="Archiving"' in bad.text and 'value="twelve"' in bad.text  # what was typed stays
        done = await staff.post(f"/billing/org/{org_id}/services",
                                data={"csrf": csrf_of(page.text), "name": "Archiving", "price": "12.00"})
        assert done.status_code == 303
        shown = await staff.get(done.headers["location"].split("#")[0])
        assert "Archiving added at $12.00 a month" in text_of(shown.text, "billing-saved")
        assert re.search(r'<th scope="row">Archiving<span', shown.text)  # in the services table


async def test_the_phone_console_says_late_from_the_1st_as_the_rule_decides() -> None:
    """On the 2nd an unpaid invoice is late (the rule: due on the 1st); the console says so in the rule's words.
    In a database of its own: at its instants, weeks ahead, it would purge every other test's tokens as expired."""
    async for d in _deployment("sqlite"):
        await console_standing(d)


async def console_standing(d: Deployment) -> None:
    admin, _ = await new_customer(d)
    tag = admin.split("pages-")[1].split(".")[0]
    contact = f"desk@pages-{tag}.test"
    await run(d, "user", "add", "--email", contact, "--password", PASSWORD, "--role", "client",
              "--org", f"Pages clinic {tag}")
    await run(d, "worker", "--once", "--now", local(period(), 9, 0))  # the invoice, due today
    for instant, words in [
        (local(period(), 12, 0), "In good standing: no invoice is past due."),
        (local(period().replace(day=2), 9, 0), "Late: an invoice due on the 1st is still unpaid."),
        (local(period().replace(day=15), 9, 0), "Suspended: an invoice was still unpaid at 12:01 AM on the 15th, "
                                                "so the services are off until everything owed is paid."),
    ]:
        at = datetime.fromisoformat(instant).astimezone(UTC)
        async with clocked_server(d.env(), FixedClock(at)) as url:
            async with logged_in_at(url, contact) as me:
                pin = re.search(r'id="pin-value" data-pin="(\d+)"', (await me.get("/tickets")).text)
                assert pin, "no PIN card"
            async with logged_in_at(url, d.users["phone"]["email"]) as staff:
                console = await staff.get("/support/verify")
                ok = await staff.post("/support/verify", data={"csrf": csrf_of(console.text), "email": contact,
                                                               "pin": pin.group(1)})
                assert ok.status_code == 303, ok.text[-1500:]
                page = (await staff.get(ok.headers["location"])).text
        assert text_of(page, "caller-standing") == words, instant


async def test_a_suspended_organisation_is_told_what_restores_its_services() -> None:
    """Suspended, with next month's invoice already out: the call-out says what restores the services (paying
    what is owed), not the next invoice's late fee; the banner says what happened and what restores them.
    In a database of its own, as the console's test above."""
    async for d in _deployment("sqlite"):
        await suspended_notice(d)


async def suspended_notice(d: Deployment) -> None:
    email, _ = await new_customer(d)
    await run(d, "worker", "--once", "--now", local(period().replace(day=15), 0, 1))  # invoice, fees, suspension
    following = (period() + timedelta(days=32)).replace(day=1)
    await run(d, "worker", "--once", "--now", local(following, 9, 0))  # the next invoice, not late yet
    at = datetime.fromisoformat(local(following.replace(day=2), 9, 0)).astimezone(UTC)
    async with clocked_server(d.env(), FixedClock(at)) as url, logged_in_at(url, email) as http:
        org_id = await org_id_of(http)
        page = (await http.get(f"/billing/org/{org_id}")).text
        api = (await http.get(f"/api/orgs/{org_id}")).json()
    assert api["standing"] == "suspended" and api["next_deadline"]["kind"] == "late_fee"  # the facts stay in the API
    owed = rules.money(api["owed_cents"])
    assert text_of(page, "next-deadline") == f"Your services are suspended. Paying the {owed} owed restores them at once."
    banner = " ".join(unescape(re.search(r'class="billing-banner-message">(.*?)</span>', page, re.S)
                               .group(1)).split())  # type: ignore[union-attr]
    assert banner == ("Your services are suspended: an invoice was still unpaid at 12:01 AM on the 15th, so a $69.00 "
                      "reconnection fee was added. Paying everything owed restores them at once.")
    assert "late fee" not in text_of(page, "next-deadline") + banner
