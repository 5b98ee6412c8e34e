"""The bulk change's reading of its body, and the SLA after a priority change: plain tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from livesupport.domain import sla
from livesupport.domain.bulk import assignees_after, parse
from livesupport.domain.errors import BadRequestError
from livesupport.domain.tickets import Priority, Status

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TARGETS = sla.parse_targets(sla.DEFAULT_TARGETS)


def test_a_body_reads_into_a_change() -> None:
    change = parse({"ids": [3, "4"], "status": "closed", "assign": [7], "unassign": None})
    assert (change.ids, change.status, change.priority, change.assign, change.unassign) == (
        [3, 4], Status.CLOSED, None, [7], [])


@pytest.mark.parametrize("body", [{}, {"ids": None}, {"ids": [0], "status": "new"}, {"ids": [-1], "status": "new"},
                                  {"ids": ["1_0"], "status": "new"}, {"ids": [" 1"], "status": "new"},
                                  {"ids": [1], "assign": list(range(1, 22))}, {"ids": [1], "assign": 5}])
def test_bad_bodies_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(BadRequestError):
        parse(body)


@pytest.mark.parametrize(("before", "add", "remove", "after"), [
    ([1, 2], [3], [], [1, 2, 3]),
    ([1, 2], [2], [1], [2]),
    ([], [], [5], []),
    ([4], [4, 5], [], [4, 5]),
])
def test_assignees_after(before: list[int], add: list[int], remove: list[int], after: list[int]) -> None:
    assert assignees_after(before, add, remove) == after


H = timedelta(hours=1)


@pytest.mark.parametrize(("priority", "status", "current", "expected"), [
    (Priority.URGENT, Status.NEW, sla.NextUpdate(NOW + 4 * H, "sla"), NOW + timedelta(minutes=15)),
    (Priority.URGENT, Status.IN_PROGRESS, sla.NextUpdate(NOW + 8 * H, "sla"), NOW + H),
    (Priority.LOW, Status.IN_PROGRESS, sla.NextUpdate(NOW + 8 * H, "sla"), None),  # never later than promised
    (Priority.URGENT, Status.IN_PROGRESS, sla.NextUpdate(NOW + 8 * H, "staff"), None),  # staff's time holds
    (Priority.URGENT, Status.WAITING_ON_CLIENT, sla.NextUpdate(None, "sla"), None),  # paused
])
def test_the_sla_after_a_priority_change(priority: Priority, status: Status, current: sla.NextUpdate,
                                         expected: datetime | None) -> None:
    got = sla.on_priority_change(TARGETS, priority, status, current, NOW)
    assert (got.at if got else None) == expected
