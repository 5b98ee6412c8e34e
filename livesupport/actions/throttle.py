"""Throttled guessing, counted in the database so that every process of a deployment sees the same numbers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select

from livesupport.clock import Clock
from livesupport.domain.errors import RateLimitedError
from livesupport.domain.throttle import Limit, retry_message, wait_after
from livesupport.store.database import Database
from livesupport.store.models import AuthFailure

# Per account and per client address. The address limits are looser: offices share one address.
LOGIN_ACCOUNT = Limit("login-account", 10, 15 * 60)
LOGIN_ADDRESS = Limit("login-address", 50, 15 * 60)
MAGIC_ACCOUNT = Limit("magic-account", 5, 60 * 60)
MAGIC_ADDRESS = Limit("magic-address", 20, 60 * 60)
OTP_ACCOUNT = Limit("otp-account", 5, 15 * 60)
OTP_ADDRESS = Limit("otp-address", 30, 15 * 60)
OTP_API_KEY = Limit("otp-api-key", 600, 60 * 60)
PIN_ACCOUNT = Limit("pin-account", 5, 15 * 60)
PIN_ADDRESS = Limit("pin-address", 30, 15 * 60)
PIN_STAFF = Limit("pin-staff", 30, 15 * 60)  # one member of staff trying many callers' PINs
TRANSFER_ADDRESS = Limit("transfer-address", 10, 60 * 60)  # transfers filed and survey links e-mailed
TRANSFER_LINK = Limit("transfer-link", 3, 60 * 60)  # fresh links asked for, per party
KEEP = timedelta(days=1)  # failures older than this are deleted


def account(user_id: int | None, typed: str) -> str:
    """The key of an account's counter: its id, whichever way it was named (domain or e-mail, web or API), so
    every door counts against one limit. A name with no account is counted under the words typed."""
    return f"user:{user_id}" if user_id is not None else f"unknown:{typed}"


class Throttle:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    async def check(self, *checks: tuple[Limit, str]) -> None:
        """Refuse with `rate_limited` (and when to retry) if any of these keys is over its limit."""
        now = self.clock.now()
        keys = [f"{limit.name}:{key}" for limit, key in checks]
        horizon = now - timedelta(seconds=max(limit.window for limit, _ in checks))
        async with self.db.read() as s:
            rows = (await s.execute(select(AuthFailure.key, AuthFailure.at).where(
                AuthFailure.key.in_(keys), AuthFailure.at > horizon))).all()
        times: dict[str, list[float]] = {}
        for key, at in rows:
            times.setdefault(key, []).append(at.timestamp())
        wait = max(wait_after(times.get(k, []), limit, now.timestamp()) for k, (limit, _) in zip(keys, checks,
                                                                                             strict=True))
        if wait:
            raise RateLimitedError(retry_message(wait), wait)

    async def fail(self, *checks: tuple[Limit, str]) -> int:
        """Count a failure against each key; returns how many failures the first key has in its window now."""
        now = self.clock.now()
        first_limit, first_key = checks[0]
        async with self.db.write() as s:
            await s.execute(insert(AuthFailure), [{"key": f"{limit.name}:{key}", "at": now} for limit, key in checks])
            await s.execute(delete(AuthFailure).where(AuthFailure.at < now - KEEP))
            rows = (await s.execute(select(AuthFailure.at).where(
                AuthFailure.key == f"{first_limit.name}:{first_key}",
                AuthFailure.at > now - timedelta(seconds=first_limit.window)))).all()
        return len(rows)

    async def clear(self, limit: Limit, key: str) -> None:
        async with self.db.write() as s:
            await s.execute(delete(AuthFailure).where(AuthFailure.key == f"{limit.name}:{key}"))
