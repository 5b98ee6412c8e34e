"""Setting a new support PIN by e-mail link: single use and 15 minutes, at instants of our choosing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from livesupport.actions import phone as phone_actions
from livesupport.actions.accounts import Accounts
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
from livesupport.store.models import User
from tests.conftest import PASSWORD, Deployment

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def phone_support(db: Database, clock: FixedClock) -> tuple[PhoneSupport, Mailer]:
    mailer = Mailer(db, clock, "support <s@localhost>")
    throttle = Throttle(db, clock)
    links = MagicLinks(db, clock, throttle, mailer)
    billing = Billing(db, clock, Policy(load({"DATA_DIR": "/tmp"}).timezone))
    tickets: Any = None  # this test opens no ticket
    return PhoneSupport(db, clock, throttle, mailer, links, billing, tickets, "test-secret-key"), mailer


async def new_contact(db: Database, clock: FixedClock) -> Person:
    """A client contact of a new organisation of its own: its PIN changes here, no shared account's does."""
    tag = secrets.token_hex(3)
    made = await Accounts(db, clock).add_user(email=f"desk@pins-{tag}.test", password=PASSWORD, role="client",
                                              name=f"Robin {tag}", org=f"Pins {tag}", tier=None)
    return Person(made.id, made.name, Role.CLIENT, org_id=made.org_id)


async def accepted(phone: PhoneSupport, staff: Person, email: str, pin: str) -> bool:
    """Does the console accept `pin` for `email` (from an address of this test's own)?"""
    return bool((await phone.verify(staff, email, pin, f"10.9.{secrets.randbelow(250)}.1"))["verified"])


async def test_a_pin_link_works_once_and_expires(db: Database, deployment: Deployment,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FixedClock(T0)
    phone, mailer = phone_support(db, clock)
    staff = Person(deployment.users["phone"]["id"], "Lee", Role.STAFF, tier=1)
    bob = await new_contact(db, clock)
    email = await _email_of(db, bob)
    old = await phone.pin_of(bob)
    assert old is not None and await accepted(phone, staff, email, old)
    await phone.request_link(email, "10.1.1.1", "http://desk.test")
    await phone.request_link("nobody@nowhere.test", "10.1.1.1", "http://desk.test")  # no error, no mail
    await phone.links.settle()
    mails = [m for m in await mailer.outbox(200) if "support PIN" in m.subject and m.to_addr in (email, "nobody@nowhere.test")]
    assert [m.to_addr for m in mails] == [email]
    token = mails[0].body.split("/pin/set/")[1].split()[0]
    with pytest.raises(UnauthorizedError):
        await phone.links.consume(token)  # a PIN link is not a sign-in link
    clock.at = T0 + timedelta(minutes=14)
    draws = iter([old, old, "271828"])  # the random draw repeats the old PIN twice: it is drawn again
    monkeypatch.setattr(phone_actions, "_new_pin", lambda: next(draws))
    person, new = await phone.set_from_link(token)
    assert person.id == bob.id and new == "271828" and await phone.pin_of(bob) == new
    assert not await accepted(phone, staff, email, old)  # the old PIN is refused ...
    assert await accepted(phone, staff, email, new)  # ... and the new one accepted
    monkeypatch.undo()
    with pytest.raises(UnauthorizedError):
        await phone.set_from_link(token)  # once
    assert await phone.pin_of(bob) == new
    await phone.request_link(email, "10.1.1.1", "http://desk.test")
    await phone.links.settle()
    later = [m for m in await mailer.outbox(200) if "support PIN" in m.subject and m.to_addr == email][0]
    clock.at += timedelta(minutes=15, seconds=1)
    with pytest.raises(UnauthorizedError):
        await phone.set_from_link(later.body.split("/pin/set/")[1].split()[0])  # expired
    assert await phone.pin_of(bob) == new
    assert PhoneSupport.handout_pdf().startswith(b"%PDF-")


async def test_staff_have_no_pin_and_a_changed_secret_gives_a_new_one(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    phone, _ = phone_support(db, clock)
    staff = Person(deployment.users["engineer"]["id"], "Dana", Role.STAFF, tier=2)
    assert await phone.pin_of(staff) is None
    alice = await new_contact(db, clock)
    email = await _email_of(db, alice)
    first = await phone.pin_of(alice)
    assert first is not None and await accepted(phone, staff, email, first)
    rotated = PhoneSupport(db, clock, phone.throttle, phone.mailer, phone.links, phone.billing, None,  # type: ignore[arg-type]
                           "another-secret")
    again = await rotated.pin_of(alice)  # the old one cannot be read with the new key: a new PIN, not an error
    assert again is not None and len(again) == 6 and await rotated.pin_of(alice) == again
    assert await accepted(rotated, staff, email, again)
    if again != first:  # one chance in a million that the fresh draw is the same six digits
        assert not await accepted(rotated, staff, email, first)
    assert not await accepted(phone, staff, email, first)  # under the old key nothing matches any more


async def _email_of(db: Database, person: Person) -> str:
    async with db.read() as s:
        user = await s.get(User, person.id)
    assert user is not None
    return str(user.email)
