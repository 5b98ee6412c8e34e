"""The billing policy: invoice deadlines, fees, suspension and cancellation. Pure functions.

Every instant comes in as an aware datetime; every rule about a time of day ("00:01 on the
5th", "the last 12 hours of the month") is read on the company's wall clock, in `Policy.tz`.
Money is integer cents. Saying that something is due, exactly once, is the caller's job:
these functions only say what is due at the instant they are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from livesupport.domain import calendar, dates
from livesupport.domain.dates import MONTHS as _MONTHS

NOTICE_DAYS = 30
DUE_DAY = 1  # invoices are due on the 1st; unpaid once that day is over, they are past due
LATE_FEE_DAY = 5
SUSPENSION_DAY = 15
FEE_TIME = time(0, 1)  # "12:01 AM" on the 5th and on the 15th
LOCK_FROM = time(12, 0)  # the last 12 hours of the month start at noon on its last day
CANCELLATION_LOCKED = "cancellation_locked"



class FeeKind(StrEnum):
    LATE_FEE = "late_fee"
    RECONNECTION_FEE = "reconnection_fee"


class Standing(StrEnum):
    GOOD = "good"
    LATE = "late"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Policy:
    """The company's settings: its time zone, its holidays, N (business days) and the fees."""

    tz: ZoneInfo
    holidays: frozenset[date] = frozenset()
    last_business_days: int = 3
    late_fee_cents: int = 3900
    reconnection_fee_cents: int = 6900

    def __post_init__(self) -> None:
        if self.last_business_days < 1:
            raise ValueError("the cancellation window needs at least 1 business day")
        if self.late_fee_cents < 0 or self.reconnection_fee_cents < 0:
            raise ValueError("fees are amounts owed, never negative")
        object.__setattr__(self, "holidays", frozenset(self.holidays))


@dataclass(frozen=True, slots=True)
class Fee:
    kind: FeeKind
    cents: int
    due_at: datetime  # the deadline that brought it, in UTC


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: Literal["late_fee", "suspension"]
    at: datetime  # UTC
    cents: int  # the fee that falls due at `at`
    message: str


@dataclass(frozen=True, slots=True)
class CancellationOutcome:
    """What a cancellation request does. `refund_cents` is always 0, see `cancellation`."""

    accepted: bool
    reason: str | None
    end_of_service: date | None  # None when refused: nothing changes
    months_billed: list[date]  # the 1sts still billed because of this cancellation
    refund_cents: int
    explanation: str
    billed_cents: int = 0  # monthly price times len(months_billed)
    notice_ends: date | None = None  # None when the notice is waived or the request refused
    retry_at: datetime | None = None  # when a refused request can be made again (UTC)
    window: list[date] = field(default_factory=list)  # the last N business days before the next 1st


def money(cents: int) -> str:
    """Integer cents as a person reads them: 3900 is "$39.00", -550 is "-$5.50"."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money is integer cents, not {cents!r}")
    dollars, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}${dollars:,}.{rest:02d}"


def wall_clock(policy: Policy, day: date, at: time) -> datetime:
    """The first instant (in UTC) at which the company's clock reads `at` on `day`, or later.

    Usually that is just `at` on `day`. Clock changes need a choice, and both cases follow from
    reading "at 00:01" as "when the clock first shows 00:01 or later":
    - a time that happens twice (the clock goes back over it) counts at its first occurrence;
    - a time that never happens (the clock jumps over it) is reached at the jump: where the clock
      goes from 00:00 straight to 01:00, "00:01" is that 01:00.
    America/New_York changes at 02:00, so its 00:00, 00:01 and 12:00 are never affected.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=policy.tz, fold=0).astimezone(UTC)  # fold=0: first occurrence
    if first.astimezone(policy.tz).replace(tzinfo=None) == naive:
        return first
    # A gap: the two readings of the missing time bracket the jump; find it to the second.
    after = int(first.timestamp())
    before = int(naive.replace(tzinfo=policy.tz, fold=1).timestamp())
    before, after = min(before, after), max(before, after)
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, policy.tz).replace(tzinfo=None) >= naive:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def late_fee_due_at(policy: Policy, period_start: date) -> datetime:
    """An invoice still unpaid at 00:01 local on the 5th of its month gets the late fee."""
    return wall_clock(policy, _first(period_start).replace(day=LATE_FEE_DAY), FEE_TIME)


def suspension_due_at(policy: Policy, period_start: date) -> datetime:
    """Still unpaid at 00:01 local on the 15th: services suspended, reconnection fee added."""
    return wall_clock(policy, _first(period_start).replace(day=SUSPENSION_DAY), FEE_TIME)


def past_due_at(policy: Policy, period_start: date) -> datetime:
    """An invoice is due on the 1st; unpaid once that day is over (00:00 on the 2nd), it is past due."""
    return wall_clock(policy, _first(period_start).replace(day=DUE_DAY + 1), time(0))


def fees_due(
    policy: Policy,
    period_start: date,
    now: datetime,
    unpaid: bool,
    fees_already: Set[str],
    *,
    paid_at: datetime | None = None,
) -> list[Fee]:
    """The fees this invoice owes at `now` and does not have yet (kinds in `fees_already`).

    The late fee is due from 00:01 on the 5th, the reconnection fee from 00:01 on the 15th,
    each only if the invoice was still unpaid then; a run after both deadlines gets both.
    `unpaid` says whether the invoice is still not paid in full at `now`. For an invoice paid
    since, `paid_at` (the instant it was paid in full) keeps a late run honest: a deadline that
    passed before the payment still brings its fee. A payment at the deadline itself is late.
    """
    _aware(now)
    if paid_at is not None:
        if unpaid:
            raise ValueError("paid_at is for an invoice that has been paid in full")
        _aware(paid_at)
    already = {str(kind) for kind in fees_already}
    schedule = [
        (FeeKind.LATE_FEE, late_fee_due_at(policy, period_start), policy.late_fee_cents),
        (FeeKind.RECONNECTION_FEE, suspension_due_at(policy, period_start),
         policy.reconnection_fee_cents),
    ]
    return [
        Fee(kind, cents, at)
        for kind, at, cents in schedule
        if kind.value not in already and at <= now and (unpaid or (paid_at is not None and paid_at >= at))
    ]


def should_suspend(policy: Policy, period_start: date, now: datetime, unpaid: bool) -> bool:
    """Suspended from 00:01 on the 15th while unpaid; paying everything owed restores at once."""
    return unpaid and suspension_due_at(policy, period_start) <= _aware(now)


def standing(policy: Policy, now: datetime, unpaid_periods: Iterable[date]) -> Standing:
    """`suspended` if any unpaid invoice has reached 00:01 on its 15th; else `late` if any is
    past due (its 1st is over); else `good`. `unpaid_periods` are the months of the invoices
    not paid in full at `now`."""
    _aware(now)
    periods = list(unpaid_periods)
    if any(suspension_due_at(policy, p) <= now for p in periods):
        return Standing.SUSPENDED
    if any(past_due_at(policy, p) <= now for p in periods):
        return Standing.LATE
    return Standing.GOOD


ORG_SORTS = ("standing", "owed", "name")
_WORST_FIRST = {Standing.SUSPENDED: 0, Standing.LATE: 1, Standing.GOOD: 2}


def org_sort_key(sort: str, standing: Standing, owed_cents: int, name: str) -> tuple[int, int, str]:
    """Organisations worst first ("standing": suspended, late, good, then the most owed), by what they owe,
    or by name; ties by name."""
    if sort == "name":
        return (0, 0, name.casefold())
    if sort == "owed":
        return (-owed_cents, _WORST_FIRST[standing], name.casefold())
    return (_WORST_FIRST[standing], -owed_cents, name.casefold())


def standing_words(standing: Standing) -> str:
    """What a standing means, in plain words, said from the same days and times `standing` decides it by."""
    if standing is Standing.SUSPENDED:
        return (f"Suspended: an invoice was still unpaid at {_clock_time(FEE_TIME)} on the "
                f"{_ordinal(SUSPENSION_DAY)}, so the services are off until everything owed is paid.")
    if standing is Standing.LATE:
        return f"Late: an invoice due on the {_ordinal(DUE_DAY)} is still unpaid."
    return "In good standing: no invoice is past due."


def suspension_notice(policy: Policy) -> str:
    """What a suspended organisation is told everywhere (banner, live notice, e-mail): what happened, and what
    restores the services."""
    return (f"Your services are suspended: an invoice was still unpaid at {_clock_time(FEE_TIME)} on the "
            f"{_ordinal(SUSPENSION_DAY)}, so a {money(policy.reconnection_fee_cents)} reconnection fee was added. "
            "Paying everything owed restores them at once.")


def next_deadline(policy: Policy, period_start: date, now: datetime, unpaid: bool) -> Deadline | None:
    """The next payment deadline of an unpaid invoice and what missing it costs, or None."""
    _aware(now)
    if not unpaid:
        return None
    late = late_fee_due_at(policy, period_start)
    if now < late:
        return Deadline("late_fee", late, policy.late_fee_cents,
                        f"Pay by {_moment(policy, late)} to avoid a "
                        f"{money(policy.late_fee_cents)} late fee.")
    suspension = suspension_due_at(policy, period_start)
    if now < suspension:
        return Deadline("suspension", suspension, policy.reconnection_fee_cents,
                        f"Pay by {_moment(policy, suspension)} to keep your services running; "
                        f"after that they are suspended and a "
                        f"{money(policy.reconnection_fee_cents)} reconnection fee is added.")
    return None


def first_invoice_period(signup: datetime, policy: Policy) -> date:
    """Service is free from sign-up until the next 1st, whose invoice is the first one.

    "Next" is strict: a sign-up during the 1st (even at 00:00) is first billed a month later.
    """
    return _next_first(_local(policy, signup).date())


def is_business_day(policy: Policy, day: date) -> bool:
    """Monday to Friday, except the company's holidays."""
    return calendar.is_business_day(day, policy.holidays)


def business_days_before_first(policy: Policy, first_of_month: date) -> list[date]:
    """The last N business days before that 1st, oldest first (N = `last_business_days`)."""
    if first_of_month.day != 1:
        raise ValueError(f"{first_of_month} is not the 1st of a month")
    days: list[date] = []
    day = first_of_month
    while len(days) < policy.last_business_days:
        day -= timedelta(days=1)
        if is_business_day(policy, day):
            days.append(day)
    return days[::-1]


def cancellation_lock(policy: Policy, day: date) -> tuple[datetime, datetime]:
    """The last 12 hours of `day`'s month on the wall clock: from 12:00 on its last day to the 1st."""
    next_first = _next_first(day)
    return (wall_clock(policy, next_first - timedelta(days=1), LOCK_FROM),
            wall_clock(policy, next_first, time(0)))


def cancellation(
    policy: Policy,
    requested_at: datetime,
    service_start: date,
    waive_notice: bool,
    monthly_cents: int,
) -> CancellationOutcome:
    """What cancelling a service at `requested_at` does, without doing it.

    - In the last 12 hours of the month (from 12:00 local on its last day) no cancellation is
      accepted, from anyone, staff included; there is no override (`cancellation_locked`).
    - Otherwise 30 days' notice: the notice runs to the request's local date plus 30 days, and
      every month whose 1st falls on or before that day is billed.
    - Staff may waive the notice: nothing more is billed, except that a request made in the last
      N business days before the next 1st (or on a weekend or holiday inside that stretch) is
      still billed on that 1st, with no refund.
    - The service is free until the 1st after `service_start`; those months are never billed.
    - The service runs to the end of the last month billed, or of the current month (already
      invoiced on its 1st) if none is, so every month billed is a month of service.
    Hence no refund ever arises: nothing is invoiced before its 1st, and no month invoiced ends
    after the service. `refund_cents` is there so callers need not assume it.
    """
    if isinstance(monthly_cents, bool) or not isinstance(monthly_cents, int) or monthly_cents < 0:
        raise ValueError("the monthly price is a whole number of cents, not negative")
    today = _local(policy, requested_at).date()
    lock_from, lock_until = cancellation_lock(policy, today)
    if lock_from <= requested_at < lock_until:
        return CancellationOutcome(
            accepted=False, reason=CANCELLATION_LOCKED, end_of_service=None, months_billed=[],
            refund_cents=0, retry_at=lock_until,
            explanation=(
                f"Cancellations are closed for the last 12 hours of each month (from "
                f"{_moment(policy, lock_from)}) while the next invoices are prepared, and no one "
                f"can override this, our staff included. You can cancel again from "
                f"{_moment(policy, lock_until)}."
            ),
        )
    next_first = _next_first(today)
    first_billable = _next_first(service_start)
    window = business_days_before_first(policy, next_first)
    in_window = today >= window[0]
    notice_ends = None if waive_notice else today + timedelta(days=NOTICE_DAYS)
    if notice_ends is not None:
        last_billed: date | None = _first(notice_ends)
    else:
        last_billed = next_first if in_window else None
    months = [m for m in _firsts(next_first, last_billed) if m >= first_billable]
    end = _last_day(max(today, service_start, *months))
    billed = monthly_cents * len(months)
    if months and notice_ends is not None:
        why = f"Your 30 days' notice runs to {_day(notice_ends)}, so {_billed(months, today, billed)}"
    elif months:
        why = (f"Notice is waived, but you are cancelling within the last {len(window)} business "
               f"days before {_day(next_first)} ({_days(window)}), so {_billed(months, today, billed)} "
               f"on {_day(next_first)}, with no refund")
    elif notice_ends is not None and notice_ends < next_first:
        why = (f"Your 30 days' notice runs to {_day(notice_ends)}, before the next invoice on "
               f"{_day(next_first)}, so nothing more is billed")
    elif notice_ends is not None:
        why = (f"Your 30 days' notice runs to {_day(notice_ends)}, and your service is free until "
               f"{_day(first_billable)}, so nothing more is billed")
    else:
        why = "Notice is waived, so nothing more is billed"
    explanation = f"{why}. Service ends {_day(end)}."
    if waive_notice and not in_window and next_first >= first_billable:
        explanation += (f" A cancellation from {_day(window[0])} on would still have "
                        f"{_month(next_first, today)} billed.")
    return CancellationOutcome(
        accepted=True, reason=None, end_of_service=end, months_billed=months, refund_cents=0,
        explanation=explanation, billed_cents=billed, notice_ends=notice_ends, window=window,
    )


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; billing needs aware instants")
    return instant


def _local(policy: Policy, instant: datetime) -> datetime:
    return _aware(instant).astimezone(policy.tz)


def _first(day: date) -> date:
    return day.replace(day=1)


def _next_first(day: date) -> date:
    return (_first(day) + timedelta(days=32)).replace(day=1)


def _last_day(day: date) -> date:
    return _next_first(day) - timedelta(days=1)


def _firsts(start: date, last: date | None) -> list[date]:
    months: list[date] = []
    while last is not None and start <= last:
        months.append(start)
        start = _next_first(start)
    return months


def _day(day: date) -> str:
    return dates.day(day)


def _days(days: list[date]) -> str:
    """Nov 26, 27 and 30: the month is named once per run of days within it."""
    words = [f"{_MONTHS[d.month - 1][:3]} {d.day}" if i == 0 or d.month != days[i - 1].month
             else str(d.day) for i, d in enumerate(days)]
    return _joined(words)


def _month(first: date, today: date) -> str:
    name = _MONTHS[first.month - 1]
    return name if first.year == today.year else f"{name} {first.year}"


def _billed(months: list[date], today: date, cents: int) -> str:
    verb = "is" if len(months) == 1 else "are"
    return f"{_joined([_month(m, today) for m in months])} {verb} billed ({money(cents)})"


def _ordinal(day: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock_time(at: time) -> str:
    return dates.clock(at)


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _moment(policy: Policy, instant: datetime) -> str:
    """Dec 5, 12:01 AM EST: a deadline as the company's clock shows it, with the zone's name."""
    return dates.moment(instant, policy.tz, year=False)
