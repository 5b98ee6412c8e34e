"""The billing worker and its rules against a real database (SQLite and PostgreSQL), at chosen instants.

Company zone America/New_York, 3 business days, no holidays: the examples of the issue, repeated runs,
a worker that was down, two workers at once, payments restoring service, and cancellations.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from livesupport.actions.accounts import Accounts
from livesupport.actions.billing import Billing
from livesupport.actions.mail import Mailer
from livesupport.clock import FixedClock
from livesupport.domain.billing import Policy
from livesupport.domain.errors import ConflictError, ForbiddenError
from livesupport.domain.people import Person, Role
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Service
from tests.conftest import PASSWORD, Deployment

NY = ZoneInfo("America/New_York")
POLICY = Policy(NY)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


@dataclass
class Org:
    id: int
    name: str
    admin: Person
    service_id: int


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2026-11-10T09:00:00"))


@pytest.fixture
def billing(db: Database, clock: FixedClock) -> Billing:
    return Billing(db, clock, POLICY, Mailer(db, clock, "billing <b@localhost>"))


async def new_org(db: Database, billing: Billing, started: str = "2026-11-10T09:00:00", cents: int = 2500) -> Org:
    name = f"Dental {secrets.token_hex(3)}"
    accounts = Accounts(db, billing.clock)
    admin = await accounts.add_user(email=f"it@{name.split()[1]}.test", password=PASSWORD, role="domain_admin",
                                    org=name, name="Practice IT")
    service_id = await billing.add_service(name, "Mail filtering", cents, local(started))
    assert admin.org_id is not None
    return Org(admin.org_id, name, admin, service_id)


def billing_staff(d: Deployment) -> Person:
    return Person(d.users["admin"]["id"], "Root Admin", Role.BILLING)


async def invoices(billing: Billing, org: Org) -> list[dict]:
    return (await billing.summary(org.admin, org.id))["invoices"]


async def mails_to(billing: Billing, org: Org, words: str) -> int:
    assert billing.mailer is not None
    address = f"it@{org.name.split()[1]}.test"
    return sum(1 for m in await billing.mailer.outbox(1000) if m.to_addr == address and words in m.subject)


async def test_a_month_from_invoice_to_late_fee_once(billing: Billing, clock: FixedClock) -> None:
    org = await new_org(billing.db, billing)
    await billing.run_due(local("2026-11-30T23:59:00"))
    assert await invoices(billing, org) == []  # free until the 1st
    report = await billing.run_due(local("2026-12-01T00:00:30"))
    assert report.invoices >= 1
    (dec,) = await invoices(billing, org)
    assert dec["period_start"] == "2026-12-01" and dec["total_cents"] == 2500 and dec["status"] == "open"
    await billing.run_due(local("2026-12-01T00:05:00"))
    assert len(await invoices(billing, org)) == 1  # run again: no second invoice

    await billing.run_due(local("2026-12-05T00:00:59"))
    assert [line["kind"] for line in (await invoices(billing, org))[0]["lines"]] == ["service"]
    await billing.run_due(local("2026-12-05T00:01:00"))
    await billing.run_due(local("2026-12-05T00:01:00"))
    lines = (await invoices(billing, org))[0]["lines"]
    assert [line["kind"] for line in lines] == ["service", "late_fee"] and lines[1]["cents"] == 3900
    assert await mails_to(billing, org, "late fee") == 1
    clock.at = local("2026-12-14T23:59:00")
    summary = await billing.summary(org.admin, org.id)
    assert summary["standing"] == "late" and summary["owed_cents"] == 6400
    assert "Pay by Dec 15, 12:01 AM" in summary["next_deadline"]["message"]


async def test_paid_on_the_14th_no_suspension_unpaid_on_the_15th_suspended(
    billing: Billing, clock: FixedClock, deployment: Deployment
) -> None:
    payer, late = await new_org(billing.db, billing), await new_org(billing.db, billing)
    await billing.run_due(local("2026-12-05T00:01:00"))
    clock.at = local("2026-12-14T23:59:00")
    (inv,) = await invoices(billing, payer)
    paid = await billing.record_payment(billing_staff(deployment), inv["id"], inv["amount_due_cents"])
    assert paid["status"] == "paid"
    clock.at = local("2026-12-15T00:01:00")
    for _ in range(2):
        await billing.run_due()
    assert (await billing.summary(payer.admin, payer.id))["standing"] == "good"
    suspended = await billing.summary(late.admin, late.id)
    assert suspended["standing"] == "suspended"
    assert [s["status"] for s in suspended["services"]] == ["suspended"]
    kinds = [line["kind"] for line in suspended["invoices"][0]["lines"]]
    assert kinds == ["service", "late_fee", "reconnection_fee"]  # one each, however many runs
    assert suspended["owed_cents"] == 2500 + 3900 + 6900
    assert await mails_to(billing, late, "suspended") == 1

    # While suspended, it stays so even when the next month's invoice (not yet past its 15th) is all that's open.
    await billing.run_due(local("2027-01-03T10:00:00"))
    clock.at = local("2027-01-03T10:00:00")
    assert (await billing.summary(late.admin, late.id))["standing"] == "suspended"
    assert await billing.standing_of(late.id) == "suspended"

    # Paying everything owed restores the services at once.
    clock.at = local("2026-12-16T10:00:00")
    with pytest.raises(ConflictError):
        await billing.record_payment(billing_staff(deployment), suspended["invoices"][0]["id"], 999_999)
    with pytest.raises(ForbiddenError):
        await billing.record_payment(late.admin, suspended["invoices"][0]["id"], 100)
    await billing.record_payment(billing_staff(deployment), suspended["invoices"][0]["id"], 13300)
    assert (await billing.summary(late.admin, late.id))["standing"] == "suspended"  # January is owed too
    january = (await invoices(billing, late))[0]
    await billing.record_payment(billing_staff(deployment), january["id"], january["amount_due_cents"])
    restored = await billing.summary(late.admin, late.id)
    assert restored["standing"] == "good" and [s["status"] for s in restored["services"]] == ["active"]
    async with billing.db.read() as s:
        assert (await s.get(Organisation, late.id)).suspended_at is None  # type: ignore[union-attr]


async def test_a_worker_that_was_down_catches_up(billing: Billing) -> None:
    org = await new_org(billing.db, billing, started="2026-10-20T12:00:00")
    await billing.run_due(local("2026-12-07T08:00:00"))  # down since before November's invoice
    found = await invoices(billing, org)
    assert [i["period_start"] for i in found] == ["2026-12-01", "2026-11-01"]
    assert [line["kind"] for line in found[0]["lines"]] == ["service", "late_fee"]  # December: past the 5th
    # November: past its 15th as well, so the services are suspended too.
    assert [line["kind"] for line in found[1]["lines"]] == ["service", "late_fee", "reconnection_fee"]
    async with billing.db.read() as s:
        assert (await s.get(Organisation, org.id)).suspended_at is not None  # type: ignore[union-attr]


async def test_two_workers_at_once_charge_once(billing: Billing, db: Database, clock: FixedClock) -> None:
    org = await new_org(db, billing)
    other = Billing(db, clock, POLICY, billing.mailer)
    at = local("2026-12-15T00:02:00")
    await asyncio.gather(billing.run_due(at), other.run_due(at), billing.run_due(at))
    (inv,) = await invoices(billing, org)
    assert sorted(line["kind"] for line in inv["lines"]) == ["late_fee", "reconnection_fee", "service"]
    assert await mails_to(billing, org, "suspended") == 1


async def test_cancellations(billing: Billing, clock: FixedClock, deployment: Deployment) -> None:
    org = await new_org(billing.db, billing, started="2026-09-03T10:00:00")
    clock.at = local("2026-11-30T11:59:00")
    _, early = await billing.preview(org.admin, org.service_id)
    assert early.accepted
    clock.at = local("2026-11-30T12:00:00")
    locked = await billing.cancel(org.admin, org.service_id)
    assert not locked.accepted and locked.reason == "cancellation_locked"
    assert await mails_to(billing, org, "not accepted") == 1  # the reason goes out by e-mail too
    assert billing.mailer is not None
    refusal = next(m for m in await billing.mailer.outbox(1000) if "not accepted" in m.subject
                   and m.to_addr == f"it@{org.name.split()[1]}.test")
    assert "last 12 hours" in refusal.body and "no one" in refusal.body
    staff = Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    assert not (await billing.cancel(staff, org.service_id, waive=True)).accepted  # no override, staff included
    with pytest.raises(ForbiddenError):
        await billing.preview(org.admin, org.service_id, waive=True)  # only staff waive the notice

    clock.at = local("2026-11-26T10:00:00")  # Thursday: within the last 3 business days before Dec 1
    outcome = await billing.cancel(staff, org.service_id, waive=True)
    assert outcome.accepted and [m.isoformat() for m in outcome.months_billed] == ["2026-12-01"]
    assert outcome.refund_cents == 0 and "December" in outcome.explanation
    await billing.run_due(local("2027-01-20T09:00:00"))
    periods = [i["period_start"] for i in await invoices(billing, org)]
    assert "2026-12-01" in periods and "2027-01-01" not in periods
    async with billing.db.read() as s:
        sv = (await s.execute(select(Service).where(Service.id == org.service_id))).scalar_one()
    assert sv.status == "cancelled" and sv.billed_through == date(2026, 12, 1)
    with pytest.raises(ConflictError):
        await billing.cancel(staff, org.service_id)
