"""The client context beside a ticket, read at injected instants, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from livesupport.actions.accounts import Accounts
from livesupport.actions.billing import Billing
from livesupport.actions.client_context import ClientContext
from livesupport.actions.mail import Mailer
from livesupport.clock import FixedClock
from livesupport.domain.billing import Policy
from livesupport.domain.errors import BadRequestError, ForbiddenError
from livesupport.domain.people import Person, Role
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import PhoneVerification, Transfer
from tests.conftest import PASSWORD

NY = ZoneInfo("America/New_York")
STAFF = Person(1, "Desk", Role.STAFF, tier=2)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


@dataclass
class Client:
    org_id: int
    org_name: str
    contact: Person
    phone: Person
    ticket_id: int


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2031-01-10T09:00:00"))


@pytest.fixture
def billing(db: Database, clock: FixedClock) -> Billing:
    return Billing(db, clock, Policy(NY), Mailer(db, clock, "billing <b@localhost>"))


@pytest.fixture
def context(db: Database, clock: FixedClock, billing: Billing) -> ClientContext:
    return ClientContext(db, clock, billing)


async def new_client(db: Database, clock: FixedClock, billing: Billing) -> Client:
    tag = secrets.token_hex(3)
    name = f"Context clinic {tag}"
    accounts = Accounts(db, clock)
    contact = await accounts.add_user(email=f"amy-{tag}@ctx.test", password=PASSWORD, role="client", org=name,
                                      name="Amy Contact")
    phone = await accounts.add_user(email=f"lee-{tag}@support.test", password=PASSWORD, role="staff", tier=1,
                                    name="Lee Phones")
    await billing.add_service(name, "Mail filtering", 2500, local("2031-01-10T09:00:00"))
    assert contact.org_id is not None
    ids = []
    async with db.write() as s:
        for subject in ("Printer offline", "VPN slow", "Old and solved"):
            t = await store.create(s, org_id=contact.org_id, opened_by=contact.id, subject=subject,
                                   priority="normal", now=clock.now())
            ids.append(t.id)
        solved = await s.get(store.Ticket, ids[2])
        solved.status = "resolved"
    return Client(contact.org_id, name, contact, phone, ids[0])


@pytest.mark.parametrize(("at", "standing", "owed"), [
    ("2031-01-20T09:00:00", "good", 0),  # free until the 1st
    ("2031-02-03T09:00:00", "late", 2500),  # due on the 1st: past due, before the late fee
    ("2031-02-06T09:00:00", "late", 2500 + 3900),  # the late fee on the 5th
    ("2031-02-16T09:00:00", "suspended", 2500 + 3900 + 6900),  # suspended on the 15th, reconnection fee
])
async def test_the_standing_and_the_amount_owed_at_an_instant(
    db: Database, clock: FixedClock, billing: Billing, context: ClientContext, at: str, standing: str, owed: int
) -> None:
    client = await new_client(db, clock, billing)
    clock.at = local(at)
    await billing.run_due(clock.now())
    seen = await context.of_ticket(STAFF, client.ticket_id)
    assert seen["org"] == {"id": client.org_id, "name": client.org_name}
    assert seen["billing"]["standing"] == standing and seen["billing"]["owed_cents"] == owed


async def test_other_open_tickets_and_nothing_for_clients(
    db: Database, clock: FixedClock, billing: Billing, context: ClientContext
) -> None:
    client = await new_client(db, clock, billing)
    seen = await context.of_ticket(STAFF, client.ticket_id)
    assert [t["subject"] for t in seen["open_tickets"]] == ["VPN slow"]  # not itself, not the solved one
    assert seen["transfer"] is None and seen["verified_caller"] is None and not seen["more_open_tickets"]
    for who in (client.contact, Person(client.contact.id, "Amy", Role.DOMAIN_ADMIN, org_id=client.org_id)):
        with pytest.raises(ForbiddenError):
            await context.of_ticket(who, client.ticket_id)
    with pytest.raises(ForbiddenError):
        await context.of_ticket(STAFF, 10**9)


@pytest.mark.parametrize(("minutes_after", "verified"), [(0, True), (29, True), (30, True), (31, False), (-5, False)])
async def test_a_caller_verified_by_phone_in_the_last_30_minutes(
    db: Database, clock: FixedClock, billing: Billing, context: ClientContext, minutes_after: int, verified: bool
) -> None:
    client = await new_client(db, clock, billing)
    checked = local("2031-01-10T10:00:00")
    async with db.write() as s:
        s.add(PhoneVerification(staff_id=client.phone.id, contact_id=client.contact.id, verified_at=checked,
                                expires_at=checked + timedelta(minutes=30)))
    clock.at = checked + timedelta(minutes=minutes_after)
    seen = (await context.of_ticket(STAFF, client.ticket_id))["verified_caller"]
    if verified:
        assert seen == {"contact": "Amy Contact", "by": "Lee Phones", "at": "2031-01-10T15:00:00Z",
                        "until": "2031-01-10T15:30:00Z"}
    else:
        assert seen is None


async def test_a_transfer_under_way(db: Database, clock: FixedClock, billing: Billing, context: ClientContext) -> None:
    client = await new_client(db, clock, billing)
    async with db.write() as s:
        s.add(Transfer(state="open", reason="partner_gone", org_id=client.org_id, org_name=client.org_name,
                       destination="vendor", services=[], desired_date=date(2031, 2, 1), created_at=clock.now(),
                       updated_at=clock.now(), site_url="http://localhost"))
    seen = (await context.of_ticket(STAFF, client.ticket_id))["transfer"]
    assert seen is not None and seen["state"] == "open" and seen["desired_date"] == "2031-02-01"


@pytest.mark.parametrize(("zone", "at", "clock_text", "offset", "working"), [
    ("Asia/Tokyo", "2031-01-10T09:00:00", "23:00", "UTC+09:00", False),
    ("Europe/Paris", "2031-01-10T09:00:00", "15:00", "UTC+01:00", True),
    ("Europe/Paris", "2031-07-10T09:00:00", "15:00", "UTC+02:00", True),  # summer time, on the same wall clock
    ("America/Los_Angeles", "2031-01-11T09:00:00", "06:00", "UTC\u221208:00", False),  # a Saturday morning
])
async def test_the_contacts_local_time(
    db: Database, clock: FixedClock, billing: Billing, context: ClientContext,
    zone: str, at: str, clock_text: str, offset: str, working: bool,
) -> None:
    client = await new_client(db, clock, billing)
    assert (await context.of_ticket(STAFF, client.ticket_id))["contact"]["local_time"] is None  # not known yet
    await context.record_time_zone(client.contact, zone)
    clock.at = local(at)
    seen = (await context.of_ticket(STAFF, client.ticket_id))["contact"]
    assert seen["name"] == "Amy Contact"
    assert seen["local_time"]["time_zone"] == zone and seen["local_time"]["clock"] == clock_text
    assert seen["local_time"]["offset"] == offset and seen["local_time"]["working_hours"] is working


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "../../etc/passwd", 42, None, "x" * 65])
async def test_a_bad_time_zone_is_refused_and_changes_nothing(
    db: Database, clock: FixedClock, billing: Billing, context: ClientContext, zone: object
) -> None:
    client = await new_client(db, clock, billing)
    await context.record_time_zone(client.contact, "Europe/Oslo")
    with pytest.raises(BadRequestError):
        await context.record_time_zone(client.contact, zone)
    seen = (await context.of_ticket(STAFF, client.ticket_id))["contact"]["local_time"]
    assert seen["time_zone"] == "Europe/Oslo"
