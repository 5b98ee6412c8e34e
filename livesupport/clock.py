"""The clock: injected everywhere time matters, so policies can be tested at any instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


def iso(at: datetime | None) -> str | None:
    """UTC, ISO-8601, with a Z: one spelling of an instant on the wire."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at is not None else None


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and `--now`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at
