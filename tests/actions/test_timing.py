"""Deadlines of accounts at any instant: the clock is injected, the database is real (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from livesupport.actions.accounts import Accounts
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.throttle import OTP_ACCOUNT, Throttle
from livesupport.actions.two_factor import TwoFactor
from livesupport.clock import FixedClock
from livesupport.domain import otp
from livesupport.domain.errors import RateLimitedError, UnauthorizedError
from livesupport.domain.people import Person, Role
from livesupport.store.database import Database
from livesupport.store.models import OutboxEmail
from tests.conftest import Deployment, new_person

# Long past: a purge of expired tokens at these instants (issue_token purges) never reaches the shared tokens
# other tests hold (an API token lives 12 hours; a T0 a week before today purged them all).
T0 = datetime(2020, 11, 27, 9, 0, tzinfo=UTC)


def person(d: Deployment, who: str) -> Person:
    return Person(d.users[who]["id"], d.users[who]["name"], Role.CLIENT, org_id=d.users[who]["org_id"])


async def newest_link(mailer: Mailer, email: str) -> OutboxEmail:
    """The newest sign-in link to `email` (the shared outbox also holds other tests' mail)."""
    return next(m for m in await mailer.outbox(50) if m.to_addr == email and "/login/link/" in m.body)


async def test_a_sign_in_link_expires_after_15_minutes(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    mailer = Mailer(db, clock, "test <t@localhost>")
    links = MagicLinks(db, clock, Throttle(db, clock), mailer)
    email = deployment.users["client"]["email"]
    await links.request(email, "10.0.0.1", "http://desk.test")
    await links.settle()
    mail = await newest_link(mailer, email)
    assert mail.to_addr == email and "http://desk.test/login/link/" in mail.body
    token = mail.body.split("/login/link/")[1].split()[0]
    clock.at = T0 + timedelta(minutes=15, seconds=1)
    with pytest.raises(UnauthorizedError, match="expired"):
        await links.consume(token)
    await links.request(email, "10.0.0.1", "http://desk.test")
    await links.settle()
    fresh = (await newest_link(mailer, email)).body.split("/login/link/")[1].split()[0]
    clock.at += timedelta(minutes=14, seconds=59)
    assert (await links.consume(fresh)).id == deployment.users["client"]["id"]


async def test_a_session_ends_when_idle_and_at_its_age(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    accounts = Accounts(db, clock, session_ttl=timedelta(days=7), session_idle=timedelta(hours=12))
    alice = person(deployment, "client")
    token = await accounts.start_session(alice)
    for _ in range(13):  # used every 11 hours: kept alive ...
        clock.at += timedelta(hours=11)
        assert await accounts.person_by_token(token) is not None
    clock.at = T0 + timedelta(days=7, seconds=1)  # ... until its absolute end
    assert await accounts.person_by_token(token) is None
    idle = await accounts.start_session(alice)
    clock.at += timedelta(hours=12, seconds=1)
    assert await accounts.person_by_token(idle) is None
    api = await accounts.issue_token(alice)  # API tokens have no idle timeout, only their age
    clock.at += timedelta(hours=11, minutes=59)
    assert await accounts.person_by_token(api[0]) is not None


async def test_codes_drift_replay_and_throttle(db: Database, deployment: Deployment) -> None:
    clock = FixedClock(T0)
    two_factor = TwoFactor(db, clock, Throttle(db, clock))
    bob = person(deployment, await new_person(deployment))  # two-factor goes on: an account of the test's own
    secret = (await two_factor.begin(bob)).secret
    totp = pyotp.TOTP(secret)
    await two_factor.confirm(bob, totp.at(T0), "10.0.0.2")
    clock.at = T0 + timedelta(seconds=60)
    for late in (T0 + timedelta(seconds=25), T0 - timedelta(seconds=90)):  # used already; two steps old
        with pytest.raises(UnauthorizedError):
            await two_factor.verify(bob.id, totp.at(late), "10.0.0.2")
    await two_factor.verify(bob.id, totp.at(T0 + timedelta(seconds=90)), "10.0.0.2")  # one step ahead: drift
    with pytest.raises(UnauthorizedError):
        await two_factor.verify(bob.id, totp.at(T0 + timedelta(seconds=60)), "10.0.0.2")  # older than the last
    for _ in range(OTP_ACCOUNT.count - 1):  # the success above cleared the earlier failures
        with pytest.raises(UnauthorizedError):
            await two_factor.verify(bob.id, "000000", "10.0.0.2")
    with pytest.raises(RateLimitedError):
        await two_factor.verify(bob.id, totp.at(clock.at), "10.0.0.2")
    clock.at += timedelta(seconds=OTP_ACCOUNT.window + 1)
    await two_factor.verify(bob.id, totp.at(clock.at), "10.0.0.2")


# RFC 6238, Appendix B: (time, SHA1, SHA256, SHA512), 8 digits.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {"SHA1": b"12345678901234567890", "SHA256": b"12345678901234567890123456789012",
         "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234"}


@pytest.mark.parametrize(("t", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_appendix_b(t: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        secret = base64.b32encode(SEEDS[algorithm]).decode()
        assert otp.code_at(secret, t, digits=8, algorithm=algorithm) == expected
        step = otp.matching_step(secret, expected, t, None, digits=8, algorithm=algorithm)
        assert step == t // 30
        assert otp.matching_step(secret, expected, t, step, digits=8, algorithm=algorithm) is None  # no replay
