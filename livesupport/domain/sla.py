"""The SLA clock: when a ticket's next update is due. Pure: the instant is always passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from livesupport.domain.numbers import parse_int
from livesupport.domain.tickets import Priority, Status

#: Response target (first answer from staff), update target (between public updates from staff).
DEFAULT_TARGETS = "urgent=15m/1h,high=1h/4h,normal=4h/8h,low=8h/24h"

PAUSED = frozenset({Status.WAITING_ON_CLIENT, Status.RESOLVED, Status.CLOSED})
OPEN = frozenset({Status.NEW, Status.TRIAGE, Status.IN_PROGRESS, Status.WAITING_ON_CLIENT})


@dataclass(frozen=True, slots=True)
class Target:
    response: timedelta
    update: timedelta


def _duration(text: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    amount = parse_int(text[:-1], 1, 10**6) if len(text) >= 2 and text[-1] in units else None
    if amount is None:
        raise ValueError(f"SLA durations look like 15m, 4h or 2d, not {text!r}")
    return timedelta(seconds=amount * units[text[-1]])


def parse_targets(spec: str) -> dict[Priority, Target]:
    """`urgent=15m/1h,high=1h/4h,...`: every priority needs its response/update pair."""
    targets: dict[Priority, Target] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, pair = part.partition("=")
        response, slash, update = pair.partition("/")
        if not sep or not slash:
            raise ValueError(f"SLA_TARGETS: write priority=response/update, e.g. high=1h/4h, not {part!r}")
        try:
            priority = Priority(name.strip())
        except ValueError:
            raise ValueError(f"SLA_TARGETS: unknown priority {name.strip()!r}") from None
        targets[priority] = Target(_duration(response), _duration(update))
    missing = [p.value for p in Priority if p not in targets]
    if missing:
        raise ValueError(f"SLA_TARGETS: no target for {', '.join(missing)}")
    return targets


@dataclass(frozen=True, slots=True)
class NextUpdate:
    at: datetime | None
    source: str  # "sla" or "staff"


def on_open(targets: dict[Priority, Target], priority: Priority, now: datetime) -> NextUpdate:
    return NextUpdate(now + targets[priority].response, "sla")


def on_staff_update(
    targets: dict[Priority, Target], priority: Priority, status: Status, now: datetime
) -> NextUpdate:
    """Staff posted a public message or changed the status: the update clock starts again (or pauses)."""
    if status in PAUSED:
        return NextUpdate(None, "sla")
    return NextUpdate(now + targets[priority].update, "sla")


def on_client_message(
    targets: dict[Priority, Target], priority: Priority, status: Status, current: NextUpdate, now: datetime
) -> NextUpdate | None:
    """A client wrote: a paused clock starts again on the response target; a running one is left alone."""
    if current.at is not None or status in (Status.CLOSED,):
        return None
    return NextUpdate(now + targets[priority].response, "sla")


def is_overdue(status: str, next_update_at: datetime | None, now: datetime) -> bool:
    return next_update_at is not None and status in OPEN and next_update_at <= now


def on_priority_change(
    targets: dict[Priority, Target], priority: Priority, status: Status, current: NextUpdate, now: datetime
) -> NextUpdate | None:
    """The priority changed: a running SLA clock may come sooner under the new target, never later (the client was
    promised the current time). A time staff set, and a paused clock, are left alone. None: no change."""
    if current.source != "sla" or current.at is None or status in PAUSED:
        return None
    target = targets[priority].response if status is Status.NEW else targets[priority].update
    sooner = now + target
    return NextUpdate(sooner, "sla") if sooner < current.at else None
