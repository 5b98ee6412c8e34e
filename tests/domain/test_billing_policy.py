"""The billing policy, instant by instant: deadlines, fees, suspension, standing, cancellation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain import billing
from livesupport.domain.billing import FeeKind, Policy, Standing

NY = ZoneInfo("America/New_York")
N3 = Policy(NY)
N2 = Policy(NY, last_business_days=2)
THANKSGIVING = Policy(NY, holidays=frozenset({date(2026, 11, 26)}))
LONG_WEEKEND = Policy(NY, holidays=frozenset({date(2026, 11, 26), date(2026, 11, 27)}))
NEW_YEARS_EVE = Policy(NY, holidays=frozenset({date(2026, 12, 31)}))
SANTIAGO = Policy(ZoneInfo("America/Santiago"))  # clocks jump 00:00 -> 01:00 on 2027-09-05
HAVANA = Policy(ZoneInfo("America/Havana"))  # clocks go 01:00 -> 00:00 on 2028-11-05

DEC = date(2026, 12, 1)
LONG_AGO = date(2025, 1, 10)
PRICE = 4900
LATE = {"late_fee"}
BOTH = {"late_fee", "reconnection_fee"}


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in New York (for a time that happens twice: its first occurrence)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- deadlines: 00:01 on the 5th and on the 15th, on the company's wall clock --------------------

@pytest.mark.parametrize(("policy", "period", "late_fee_at", "suspension_at"), [
    (N3, DEC, utc(2026, 12, 5, 5, 1), utc(2026, 12, 15, 5, 1)),
    (N3, date(2026, 12, 17), utc(2026, 12, 5, 5, 1), utc(2026, 12, 15, 5, 1)),  # any day of the month
    (N3, date(2026, 3, 1), utc(2026, 3, 5, 5, 1), utc(2026, 3, 15, 4, 1)),  # EST, then EDT from Mar 8
    (N3, date(2026, 10, 1), utc(2026, 10, 5, 4, 1), utc(2026, 10, 15, 4, 1)),  # EDT
    (N3, date(2026, 11, 1), utc(2026, 11, 5, 5, 1), utc(2026, 11, 15, 5, 1)),  # EST from Nov 1
    (N3, date(2027, 3, 1), utc(2027, 3, 5, 5, 1), utc(2027, 3, 15, 4, 1)),  # EDT from Mar 14
    (N3, date(2027, 11, 1), utc(2027, 11, 5, 4, 1), utc(2027, 11, 15, 5, 1)),  # EST from Nov 7
    (N3, date(2028, 2, 1), utc(2028, 2, 5, 5, 1), utc(2028, 2, 15, 5, 1)),
    (SANTIAGO, date(2027, 9, 1), utc(2027, 9, 5, 4, 0), utc(2027, 9, 15, 3, 1)),  # 00:01 skipped
    (HAVANA, date(2028, 11, 1), utc(2028, 11, 5, 4, 1), utc(2028, 11, 15, 5, 1)),  # 00:01 twice
])
def test_fee_deadlines(policy: Policy, period: date, late_fee_at: datetime, suspension_at: datetime) -> None:
    assert billing.late_fee_due_at(policy, period) == late_fee_at
    assert billing.suspension_due_at(policy, period) == suspension_at


@pytest.mark.parametrize(("policy", "day", "at", "expected"), [
    (N3, date(2026, 3, 8), time(0, 1), utc(2026, 3, 8, 5, 1)),  # the day of the jump, before it
    (N3, date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),  # just after the jump
    (N3, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),  # skipped: reached at the jump
    (N3, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # twice: the first one (EDT)
    (N3, date(2027, 3, 14), time(2, 0), utc(2027, 3, 14, 7, 0)),
    (N3, date(2027, 11, 7), time(1, 0), utc(2027, 11, 7, 5, 0)),
    (SANTIAGO, date(2027, 9, 5), time(0, 0), utc(2027, 9, 5, 4, 0)),
    (SANTIAGO, date(2027, 9, 5), time(1, 0), utc(2027, 9, 5, 4, 0)),
    (HAVANA, date(2028, 11, 5), time(0, 30), utc(2028, 11, 5, 4, 30)),
])
def test_wall_clock_across_clock_changes(policy: Policy, day: date, at: time, expected: datetime) -> None:
    assert billing.wall_clock(policy, day, at) == expected


# --- fees: what is due at `now`, never a kind already present ------------------------------------

@pytest.mark.parametrize(("period", "now", "unpaid", "already", "kinds"), [
    # The issue's example: 00:00:59 no fee yet, 00:01:00 one fee, asked again no second fee.
    (DEC, ny(2026, 12, 5, 0, 0, 59), True, set(), []),
    (DEC, ny(2026, 12, 5, 0, 1, 0), True, set(), ["late_fee"]),
    (DEC, ny(2026, 12, 5, 0, 1, 0), True, LATE, []),
    (DEC, ny(2026, 12, 1, 0, 0), True, set(), []),
    (DEC, ny(2026, 12, 5, 0, 1), False, set(), []),  # paid before the 5th
    (DEC, ny(2026, 12, 7, 9, 0), True, set(), ["late_fee"]),  # a worker catching up on the 7th
    (DEC, ny(2026, 12, 14, 23, 59), True, LATE, []),
    (DEC, ny(2026, 12, 15, 0, 0, 59), True, LATE, []),
    (DEC, ny(2026, 12, 15, 0, 1), True, LATE, ["reconnection_fee"]),
    (DEC, ny(2026, 12, 15, 0, 1), True, BOTH, []),
    (DEC, ny(2026, 12, 16, 8, 0), True, set(), ["late_fee", "reconnection_fee"]),  # down since the 4th
    (DEC, ny(2026, 12, 16, 8, 0), True, {FeeKind.LATE_FEE}, ["reconnection_fee"]),
    (DEC, ny(2027, 1, 20), True, BOTH, []),
    (date(2026, 3, 1), utc(2026, 3, 15, 4, 0, 59), True, LATE, []),  # 00:00:59 EDT
    (date(2026, 3, 1), utc(2026, 3, 15, 4, 1), True, LATE, ["reconnection_fee"]),
    (date(2026, 11, 1), utc(2026, 11, 5, 5, 0, 59), True, set(), []),  # 00:00:59 EST, after Nov 1
    (date(2026, 11, 1), utc(2026, 11, 5, 5, 1), True, set(), ["late_fee"]),
    (date(2027, 11, 1), utc(2027, 11, 5, 4, 0, 59), True, set(), []),  # EDT, before Nov 7
    (date(2027, 11, 1), utc(2027, 11, 5, 4, 1), True, set(), ["late_fee"]),
    (date(2027, 11, 1), utc(2027, 11, 15, 5, 0, 59), True, LATE, []),  # EST, after Nov 7
    (date(2027, 11, 1), utc(2027, 11, 15, 5, 1), True, LATE, ["reconnection_fee"]),
    (date(2028, 2, 1), ny(2028, 2, 5, 0, 0, 59), True, set(), []),
    (date(2028, 2, 1), ny(2028, 2, 5, 0, 1), True, set(), ["late_fee"]),
])
def test_fees_due(period: date, now: datetime, unpaid: bool, already: set[str], kinds: list[str]) -> None:
    fees = billing.fees_due(N3, period, now, unpaid, already)
    assert [fee.kind for fee in fees] == kinds
    cents = {"late_fee": 3900, "reconnection_fee": 6900}
    assert [fee.cents for fee in fees] == [cents[kind] for kind in kinds]


@pytest.mark.parametrize(("paid_at", "now", "kinds"), [
    (ny(2026, 12, 4, 23, 59), ny(2026, 12, 7), []),
    (ny(2026, 12, 5, 0, 0, 59), ny(2026, 12, 7), []),
    (ny(2026, 12, 5, 0, 1), ny(2026, 12, 7), ["late_fee"]),  # paid at the deadline: late
    (ny(2026, 12, 6, 10, 0), ny(2026, 12, 7), ["late_fee"]),  # paid while the worker was down
    (ny(2026, 12, 6, 10, 0), ny(2026, 12, 20), ["late_fee"]),
    (ny(2026, 12, 16, 10, 0), ny(2026, 12, 20), ["late_fee", "reconnection_fee"]),
])
def test_a_late_run_charges_what_was_due_before_the_payment(
    paid_at: datetime, now: datetime, kinds: list[str]
) -> None:
    fees = billing.fees_due(N3, DEC, now, False, set(), paid_at=paid_at)
    assert [fee.kind for fee in fees] == kinds


def test_never_a_fee_twice() -> None:
    instants = [ny(2026, 12, day, hour) for day in range(1, 32) for hour in (0, 12)]
    owned: set[str] = set()
    for now in instants:
        for fee in billing.fees_due(N3, DEC, now, True, owned):
            assert fee.kind not in owned
            owned.add(fee.kind)
    assert owned == BOTH


def test_fees_use_the_policy_amounts() -> None:
    policy = Policy(NY, late_fee_cents=2500, reconnection_fee_cents=5000)
    fees = billing.fees_due(policy, DEC, ny(2027, 1, 1), True, set())
    assert [(fee.kind, fee.cents, fee.due_at) for fee in fees] == [
        ("late_fee", 2500, utc(2026, 12, 5, 5, 1)),
        ("reconnection_fee", 5000, utc(2026, 12, 15, 5, 1)),
    ]


# --- suspension and standing ---------------------------------------------------------------------

@pytest.mark.parametrize(("period", "now", "unpaid", "suspended"), [
    (DEC, ny(2026, 12, 14, 23, 59), True, False),
    (DEC, ny(2026, 12, 15, 0, 0, 59), True, False),
    (DEC, ny(2026, 12, 15, 0, 1), True, True),
    (DEC, ny(2026, 12, 15, 0, 1), False, False),  # paid at 2026-12-14 23:59
    (DEC, ny(2026, 12, 20), False, False),  # paying everything restores at once
    (date(2026, 3, 1), utc(2026, 3, 15, 4, 0, 59), True, False),
    (date(2026, 3, 1), utc(2026, 3, 15, 4, 1), True, True),
    (date(2027, 3, 1), utc(2027, 3, 15, 4, 1), True, True),
    (date(2028, 2, 1), ny(2028, 2, 15, 0, 1), True, True),
])
def test_should_suspend(period: date, now: datetime, unpaid: bool, suspended: bool) -> None:
    assert billing.should_suspend(N3, period, now, unpaid) is suspended


def test_the_issue_suspension_example() -> None:
    assert not billing.should_suspend(N3, DEC, ny(2026, 12, 15, 0, 1), unpaid=False)
    at = ny(2026, 12, 15, 0, 1)
    assert billing.should_suspend(N3, DEC, at, unpaid=True)
    assert [(f.kind, billing.money(f.cents)) for f in billing.fees_due(N3, DEC, at, True, LATE)] == [
        ("reconnection_fee", "$69.00")
    ]


@pytest.mark.parametrize(("now", "unpaid_periods", "expected"), [
    (ny(2026, 12, 20), [], Standing.GOOD),
    (ny(2026, 12, 1, 18, 0), [DEC], Standing.GOOD),  # due today
    (ny(2026, 12, 1, 23, 59, 59), [DEC], Standing.GOOD),
    (ny(2026, 12, 2, 0, 0), [DEC], Standing.LATE),  # past due
    (ny(2026, 12, 5, 0, 1), [DEC], Standing.LATE),
    (ny(2026, 12, 15, 0, 0, 59), [DEC], Standing.LATE),
    (ny(2026, 12, 15, 0, 1), [DEC], Standing.SUSPENDED),
    (ny(2026, 12, 1, 9, 0), [date(2026, 11, 1), DEC], Standing.SUSPENDED),  # November's still open
    (ny(2026, 3, 15, 0, 1), [date(2026, 3, 1)], Standing.SUSPENDED),  # EDT
])
def test_standing(now: datetime, unpaid_periods: list[date], expected: Standing) -> None:
    assert billing.standing(N3, now, unpaid_periods) is expected


@pytest.mark.parametrize(("now", "unpaid", "kind", "at", "message"), [
    (ny(2026, 12, 1, 9, 0), True, "late_fee", utc(2026, 12, 5, 5, 1),
     "Pay by Dec 5, 12:01 AM EST to avoid a $39.00 late fee."),
    (ny(2026, 12, 5, 0, 0, 59), True, "late_fee", utc(2026, 12, 5, 5, 1),
     "Pay by Dec 5, 12:01 AM EST to avoid a $39.00 late fee."),
    (ny(2026, 12, 5, 0, 1), True, "suspension", utc(2026, 12, 15, 5, 1),
     "Pay by Dec 15, 12:01 AM EST to keep your services running; after that they are suspended"
     " and a $69.00 reconnection fee is added."),
    (ny(2026, 3, 10), True, "suspension", utc(2026, 3, 15, 4, 1),
     "Pay by Mar 15, 12:01 AM EDT to keep your services running; after that they are suspended"
     " and a $69.00 reconnection fee is added."),
    (ny(2026, 12, 15, 0, 1), True, None, None, None),
    (ny(2026, 12, 2), False, None, None, None),
])
def test_next_deadline(
    now: datetime, unpaid: bool, kind: str | None, at: datetime | None, message: str | None
) -> None:
    period = date(now.year, now.month, 1)
    deadline = billing.next_deadline(N3, period, now, unpaid)
    if kind is None:
        assert deadline is None
    else:
        assert deadline is not None
        assert (deadline.kind, deadline.at, deadline.message) == (kind, at, message)


# --- sign-up and business days -------------------------------------------------------------------

@pytest.mark.parametrize(("signup", "first_invoice"), [
    (ny(2026, 11, 20, 10, 0), date(2026, 12, 1)),
    (ny(2026, 11, 30, 23, 59, 59), date(2026, 12, 1)),
    (ny(2026, 12, 1, 0, 0), date(2027, 1, 1)),  # the next 1st, not today's
    (utc(2026, 12, 1, 4, 30), date(2026, 12, 1)),  # still Nov 30 in New York
    (ny(2026, 12, 31, 12, 0), date(2027, 1, 1)),
    (ny(2028, 2, 29, 8, 0), date(2028, 3, 1)),
    (ny(2027, 2, 28, 8, 0), date(2027, 3, 1)),
])
def test_service_is_free_until_the_next_first(signup: datetime, first_invoice: date) -> None:
    assert billing.first_invoice_period(signup, N3) == first_invoice


@pytest.mark.parametrize(("policy", "first", "days"), [
    (N3, date(2026, 12, 1), [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 30)]),
    (N2, date(2026, 12, 1), [date(2026, 11, 27), date(2026, 11, 30)]),
    (THANKSGIVING, date(2026, 12, 1), [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]),
    (LONG_WEEKEND, date(2026, 12, 1), [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 30)]),
    (N3, date(2026, 11, 1), [date(2026, 10, 28), date(2026, 10, 29), date(2026, 10, 30)]),  # Sat 31st
    (N3, date(2027, 3, 1), [date(2027, 2, 24), date(2027, 2, 25), date(2027, 2, 26)]),  # Sun 28th
    (N3, date(2028, 3, 1), [date(2028, 2, 25), date(2028, 2, 28), date(2028, 2, 29)]),  # leap day
    (N2, date(2028, 3, 1), [date(2028, 2, 28), date(2028, 2, 29)]),
    (N3, date(2027, 1, 1), [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]),
    (NEW_YEARS_EVE, date(2027, 1, 1), [date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)]),
])
def test_business_days_before_first(policy: Policy, first: date, days: list[date]) -> None:
    assert billing.business_days_before_first(policy, first) == days


# --- cancellation: the 12-hour lock -----------------------------------------------------------

@pytest.mark.parametrize(("requested_at", "accepted"), [
    (ny(2026, 11, 30, 11, 59), True),  # the issue's example
    (ny(2026, 11, 30, 11, 59, 59), True),
    (ny(2026, 11, 30, 12, 0), False),
    (ny(2026, 11, 30, 23, 59, 59), False),
    (ny(2026, 12, 1, 0, 0), True),
    (utc(2026, 11, 30, 16, 59), True),  # 11:59 EST, given in UTC
    (utc(2026, 11, 30, 17, 0), False),
    (ny(2026, 12, 31, 11, 59), True),  # 31 days
    (ny(2026, 12, 31, 12, 0), False),
    (ny(2026, 10, 31, 12, 0), False),  # a Saturday, EDT, the night before the clocks go back
    (ny(2026, 11, 1, 0, 0), True),
    (ny(2027, 2, 28, 11, 59), True),  # 28 days, a Sunday
    (ny(2027, 2, 28, 12, 0), False),
    (ny(2028, 2, 28, 12, 0), True),  # not the last day in a leap year
    (ny(2028, 2, 29, 11, 59), True),
    (ny(2028, 2, 29, 12, 0), False),
    (ny(2026, 3, 31, 12, 0), False),  # EDT
    (ny(2026, 4, 30, 18, 0), False),  # 30 days
])
def test_no_cancellation_in_the_last_12_hours(requested_at: datetime, accepted: bool) -> None:
    outcome = billing.cancellation(N3, requested_at, LONG_AGO, waive_notice=True, monthly_cents=PRICE)
    assert outcome.accepted is accepted
    assert outcome.reason == (None if accepted else "cancellation_locked")


def test_a_locked_request_says_when_to_come_back() -> None:
    outcome = billing.cancellation(N3, ny(2026, 11, 30, 12, 0), LONG_AGO, False, PRICE)
    assert (outcome.end_of_service, outcome.months_billed, outcome.refund_cents) == (None, [], 0)
    assert outcome.retry_at == utc(2026, 12, 1, 5, 0)
    assert outcome.explanation == (
        "Cancellations are closed for the last 12 hours of each month (from Nov 30, 12:00 PM EST)"
        " while the next invoices are prepared, and no one can override this, our staff included."
        " You can cancel again from Dec 1, 12:00 AM EST."
    )


# --- cancellation: notice, waived notice, the last N business days ----------------------------

D = date


@pytest.mark.parametrize(("policy", "requested_at", "start", "waive", "months", "end"), [
    # The issue's example: Thursday Nov 26 is in the window (Nov 26, 27, 30): December is billed.
    (N3, ny(2026, 11, 26, 10, 0), LONG_AGO, True, [D(2026, 12, 1)], D(2026, 12, 31)),
    (N3, ny(2026, 11, 25, 23, 59), LONG_AGO, True, [], D(2026, 11, 30)),
    (N3, ny(2026, 11, 28, 10, 0), LONG_AGO, True, [D(2026, 12, 1)], D(2026, 12, 31)),  # a Saturday
    (N3, ny(2026, 11, 30, 11, 59), LONG_AGO, True, [D(2026, 12, 1)], D(2026, 12, 31)),
    (N3, ny(2026, 12, 1, 0, 0), LONG_AGO, True, [], D(2026, 12, 31)),  # December already invoiced
    (N2, ny(2026, 11, 26, 10, 0), LONG_AGO, True, [], D(2026, 11, 30)),
    (N2, ny(2026, 11, 27, 0, 0), LONG_AGO, True, [D(2026, 12, 1)], D(2026, 12, 31)),
    (THANKSGIVING, ny(2026, 11, 25, 9, 0), LONG_AGO, True, [D(2026, 12, 1)], D(2026, 12, 31)),
    (THANKSGIVING, ny(2026, 11, 24, 23, 59), LONG_AGO, True, [], D(2026, 11, 30)),
    (N3, ny(2026, 10, 31, 10, 0), LONG_AGO, True, [D(2026, 11, 1)], D(2026, 11, 30)),  # Saturday
    (N3, ny(2026, 10, 27, 10, 0), LONG_AGO, True, [], D(2026, 10, 31)),
    (N3, ny(2027, 2, 24, 0, 0), LONG_AGO, True, [D(2027, 3, 1)], D(2027, 3, 31)),
    (N3, ny(2027, 2, 23, 23, 59), LONG_AGO, True, [], D(2027, 2, 28)),
    (N3, ny(2028, 2, 25, 8, 0), LONG_AGO, True, [D(2028, 3, 1)], D(2028, 3, 31)),
    (N3, ny(2028, 2, 24, 8, 0), LONG_AGO, True, [], D(2028, 2, 29)),
    (N3, ny(2026, 3, 8, 3, 30), LONG_AGO, True, [], D(2026, 3, 31)),  # just after the jump
    (NEW_YEARS_EVE, ny(2026, 12, 28, 9, 0), LONG_AGO, True, [D(2027, 1, 1)], D(2027, 1, 31)),
    # 30 days' notice: every month whose 1st falls on or before the end of notice is billed.
    (N3, ny(2026, 11, 27, 10, 0), LONG_AGO, False, [D(2026, 12, 1)], D(2026, 12, 31)),
    (N3, ny(2026, 12, 1, 10, 0), LONG_AGO, False, [], D(2026, 12, 31)),  # notice to Dec 31
    (N3, ny(2026, 12, 2, 10, 0), LONG_AGO, False, [D(2027, 1, 1)], D(2027, 1, 31)),  # to Jan 1
    (N3, ny(2027, 1, 1, 10, 0), LONG_AGO, False, [], D(2027, 1, 31)),
    (N3, ny(2027, 1, 29, 10, 0), LONG_AGO, False, [D(2027, 2, 1)], D(2027, 2, 28)),
    (N3, ny(2027, 1, 30, 10, 0), LONG_AGO, False, [D(2027, 2, 1), D(2027, 3, 1)], D(2027, 3, 31)),
    (N3, ny(2028, 1, 30, 10, 0), LONG_AGO, False, [D(2028, 2, 1)], D(2028, 2, 29)),  # to Feb 29
    (N3, ny(2028, 1, 31, 10, 0), LONG_AGO, False, [D(2028, 2, 1), D(2028, 3, 1)], D(2028, 3, 31)),
    (N3, utc(2026, 11, 1, 6, 30), LONG_AGO, False, [D(2026, 12, 1)], D(2026, 12, 31)),  # 01:30 EST
    # Free until the 1st after the service starts.
    (N3, ny(2026, 11, 23, 10, 0), D(2026, 11, 20), True, [], D(2026, 11, 30)),
    (N3, ny(2026, 11, 23, 10, 0), D(2026, 11, 20), False, [D(2026, 12, 1)], D(2026, 12, 31)),
    (N3, ny(2026, 11, 20, 10, 0), D(2026, 12, 10), False, [], D(2026, 12, 31)),
])
def test_cancellation(
    policy: Policy, requested_at: datetime, start: date, waive: bool, months: list[date], end: date
) -> None:
    outcome = billing.cancellation(policy, requested_at, start, waive, PRICE)
    assert outcome.accepted and outcome.reason is None
    assert outcome.months_billed == months
    assert outcome.end_of_service == end
    assert outcome.billed_cents == PRICE * len(months)
    assert outcome.refund_cents == 0


@pytest.mark.parametrize(("requested_at", "waive", "explanation"), [
    (ny(2026, 11, 27, 10, 0), False,
     "Your 30 days' notice runs to Dec 27, 2026, so December is billed ($49.00)."
     " Service ends Dec 31, 2026."),
    (ny(2026, 11, 26, 10, 0), True,
     "Notice is waived, but you are cancelling within the last 3 business days before"
     " Dec 1, 2026 (Nov 26, 27 and 30), so December is billed ($49.00) on Dec 1, 2026,"
     " with no refund. Service ends Dec 31, 2026."),
    (ny(2026, 11, 23, 10, 0), True,
     "Notice is waived, so nothing more is billed. Service ends Nov 30, 2026."
     " A cancellation from Nov 26, 2026 on would still have December billed."),
    (ny(2027, 1, 1, 10, 0), False,
     "Your 30 days' notice runs to Jan 31, 2027, before the next invoice on Feb 1, 2027,"
     " so nothing more is billed. Service ends Jan 31, 2027."),
    (ny(2026, 12, 30, 10, 0), False,
     "Your 30 days' notice runs to Jan 29, 2027, so January 2027 is billed ($49.00)."
     " Service ends Jan 31, 2027."),
    (ny(2028, 1, 31, 10, 0), False,
     "Your 30 days' notice runs to Mar 1, 2028, so February and March are billed ($98.00)."
     " Service ends Mar 31, 2028."),
])
def test_cancellation_explains_itself(requested_at: datetime, waive: bool, explanation: str) -> None:
    assert billing.cancellation(N3, requested_at, LONG_AGO, waive, PRICE).explanation == explanation


# --- money and bad input -------------------------------------------------------------------------

@pytest.mark.parametrize(("cents", "text"), [
    (3900, "$39.00"), (6900, "$69.00"), (0, "$0.00"), (5, "$0.05"), (123456, "$1,234.56"),
    (-550, "-$5.50"),
])
def test_money(cents: int, text: str) -> None:
    assert billing.money(cents) == text


@pytest.mark.parametrize("amount", [39.0, "3900", True])
def test_money_is_integer_cents(amount: object) -> None:
    with pytest.raises(TypeError):
        billing.money(amount)  # type: ignore[arg-type]


def test_bad_input_is_refused() -> None:
    naive = datetime(2026, 12, 5, 0, 1)
    with pytest.raises(ValueError, match="no time zone"):
        billing.fees_due(N3, DEC, naive, True, set())
    with pytest.raises(ValueError, match="no time zone"):
        billing.cancellation(N3, naive, LONG_AGO, False, PRICE)
    with pytest.raises(ValueError, match="not the 1st"):
        billing.business_days_before_first(N3, date(2026, 11, 30))
    with pytest.raises(ValueError, match="paid in full"):
        billing.fees_due(N3, DEC, ny(2026, 12, 7), True, set(), paid_at=ny(2026, 12, 6))
    with pytest.raises(ValueError, match="cents"):
        billing.cancellation(N3, ny(2026, 11, 2), LONG_AGO, False, 49.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        Policy(NY, last_business_days=0)


GOOD_WORDS = "In good standing: no invoice is past due."
LATE_WORDS = "Late: an invoice due on the 1st is still unpaid."
SUSPENDED_WORDS = ("Suspended: an invoice was still unpaid at 12:01 AM on the 15th, so the services are off until "
                   "everything owed is paid.")


@pytest.mark.parametrize(("now", "words"), [
    (ny(2026, 12, 1, 23, 59), GOOD_WORDS),  # due today: not late yet
    (ny(2026, 12, 2, 0, 0), LATE_WORDS),  # the 1st is over
    (ny(2026, 12, 2, 9, 0), LATE_WORDS),  # the 2nd: late, and said so from the 1st (never "the 5th")
    (ny(2026, 12, 5, 0, 1), LATE_WORDS),
    (ny(2026, 12, 15, 0, 0), LATE_WORDS),
    (ny(2026, 12, 15, 0, 1), SUSPENDED_WORDS),
])
def test_the_words_of_a_standing_come_from_the_rule_that_decides_it(now: datetime, words: str) -> None:
    assert billing.standing_words(billing.standing(N3, now, [DEC])) == words


@pytest.mark.parametrize(("day", "said"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                           (12, "12th"), (13, "13th"), (15, "15th"), (21, "21st"), (22, "22nd")])
def test_ordinals(day: int, said: str) -> None:
    assert billing._ordinal(day) == said


ORGS = [("beta", Standing.GOOD, 0), ("alpha", Standing.LATE, 2500), ("gamma", Standing.SUSPENDED, 900),
        ("delta", Standing.LATE, 9000), ("Epsilon", Standing.GOOD, 12000)]


@pytest.mark.parametrize(("sort", "order"), [
    ("standing", ["gamma", "delta", "alpha", "Epsilon", "beta"]),  # suspended, late (most owed first), good
    ("owed", ["Epsilon", "delta", "alpha", "gamma", "beta"]),
    ("name", ["alpha", "beta", "delta", "Epsilon", "gamma"]),
])
def test_organisations_sort_worst_first_by_owed_or_by_name(sort: str, order: list[str]) -> None:
    ranked = sorted(ORGS, key=lambda o: billing.org_sort_key(sort, o[1], o[2], o[0]))
    assert [name for name, _, _ in ranked] == order
