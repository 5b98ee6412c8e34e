"""Setting a new support PIN by e-mail link: single use and 15 minutes, at instants of our choosing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from livesupport.actions.billing import Billing
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.phone import PhoneSupport
from livesupport.actions.throttle import Throttle
from livesupport.clock import FixedClock
from livesupport.domain.billing import Policy
from livesupport.domain.errors import UnauthorizedError
from livesupport.domain.people import Person, Role
from livesupport.settings import load
from livesupport.store.database import Database
from tests.conftest import Deployment

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def phone_support(db: Database, clock: FixedClock) -> tuple[PhoneSupport, Mailer]:
    mailer = Mailer(db, clock, "support <s@localhost>")
    throttle = Throttle(db, clock)
    links = MagicLinks(db, clock, throttle, mailer)
    billing = Billing(db, clock, Policy(load({"DATA_DIR": "/tmp"}).timezone))
    tickets: Any = None  # this test opens no ticket
    return PhoneSupport(db, clock, throttle, mailer, links, billing, tickets, "test-secret-key"), mailer


async def test_a_pin_link_works_once_and_expires(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    phone, mailer = phone_support(db, clock)
    bob = Person(deployment.users["client2"]["id"], "Bob", Role.CLIENT, org_id=deployment.users["client2"]["org_id"])
    old = await phone.pin_of(bob)
    await phone.request_link(deployment.users["client2"]["email"], "10.1.1.1", "http://desk.test")
    await phone.request_link("nobody@nowhere.test", "10.1.1.1", "http://desk.test")  # no error, no mail
    await phone.links.settle()
    mails = [m for m in await mailer.outbox(50) if "support PIN" in m.subject]
    assert [m.to_addr for m in mails] == [deployment.users["client2"]["email"]]
    token = mails[0].body.split("/pin/set/")[1].split()[0]
    with pytest.raises(UnauthorizedError):
        await phone.links.consume(token)  # a PIN link is not a sign-in link
    clock.at = T0 + timedelta(minutes=14)
    person, new = await phone.set_from_link(token)
    assert person.id == bob.id and new != old and await phone.pin_of(bob) == new
    with pytest.raises(UnauthorizedError):
        await phone.set_from_link(token)  # once
    await phone.request_link(deployment.users["client2"]["email"], "10.1.1.1", "http://desk.test")
    await phone.links.settle()
    later = [m for m in await mailer.outbox(50) if "support PIN" in m.subject][0]
    clock.at += timedelta(minutes=15, seconds=1)
    with pytest.raises(UnauthorizedError):
        await phone.set_from_link(later.body.split("/pin/set/")[1].split()[0])  # expired
    assert PhoneSupport.handout_pdf().startswith(b"%PDF-")


async def test_staff_have_no_pin_and_a_changed_secret_gives_a_new_one(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    phone, _ = phone_support(db, clock)
    staff = Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    assert await phone.pin_of(staff) is None
    alice = Person(deployment.users["client"]["id"], "Alice", Role.CLIENT, org_id=deployment.users["client"]["org_id"])
    first = await phone.pin_of(alice)
    rotated = PhoneSupport(db, clock, phone.throttle, phone.mailer, phone.links, phone.billing, None,  # type: ignore[arg-type]
                           "another-secret")
    again = await rotated.pin_of(alice)  # the old one cannot be read with the new key: a new PIN, not an error
    assert again is not None and len(again) == 6 and first is not None
