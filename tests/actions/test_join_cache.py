"""The join cache's rules, at chosen instants: what it may answer, and what it must not keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livesupport.actions.join_cache import JoinCache, Joined
from livesupport.domain.outcomes import Policy
from livesupport.domain.people import Person, Role

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = Person(id=7, name="Alice", role=Role.CLIENT, org_id=3)


def joined(upto: int, at: datetime = T0, **kw: object) -> Joined:
    fields: dict = {"state": {"id": 1}, "visible": upto, "upto": upto, "status": "in_progress",
                    "next_update_at": T0 + timedelta(hours=1), "resolved_at": None, "client": True, "fetched": at}
    return Joined(**{**fields, **kw})


def test_a_snapshot_older_than_what_the_topic_delivered_is_not_answered() -> None:
    cache = JoinCache(timedelta(seconds=30))
    cache.remember(ALICE, 1, joined(upto=5), cache.generation)
    assert cache.joined(ALICE, 1, heard=5, now=T0) is not None
    assert cache.joined(ALICE, 1, heard=4, now=T0) is not None  # this process lags the database: still whole
    assert cache.joined(ALICE, 1, heard=6, now=T0) is None  # event 6 went out before the socket attached
    assert cache.joined(Person(id=8, name="Bob", role=Role.CLIENT, org_id=3), 1, heard=5, now=T0) is None


def test_a_read_that_raced_a_forgetting_is_not_remembered() -> None:
    cache = JoinCache(timedelta(seconds=30))
    asked = cache.generation
    cache.forget_all()  # an access change announced while the read was on its way
    cache.remember_owner(1, org_id=3, partner_id=None, now=T0, generation=asked)
    cache.remember(ALICE, 1, joined(upto=5), asked)
    assert cache.owner(1, T0) is None and cache.joined(ALICE, 1, heard=0, now=T0) is None
    cache.remember_owner(1, org_id=3, partner_id=None, now=T0, generation=cache.generation)
    assert cache.owner(1, T0) is not None
    cache.forget_all()
    assert cache.owner(1, T0) is None


def test_entries_last_their_time_and_none_when_the_cache_is_off() -> None:
    cache = JoinCache(timedelta(seconds=30))
    cache.remember_owner(1, org_id=3, partner_id=9, now=T0, generation=cache.generation)
    cache.remember(ALICE, 1, joined(upto=5), cache.generation)
    assert cache.joined(ALICE, 1, heard=5, now=T0 + timedelta(milliseconds=999)) is not None
    assert cache.joined(ALICE, 1, heard=5, now=T0 + timedelta(seconds=1)) is None  # SNAPSHOT_TTL
    assert cache.owner(1, T0 + timedelta(seconds=29)) is not None
    assert cache.owner(1, T0 + timedelta(seconds=30)) is None
    off = JoinCache(timedelta(0))
    off.remember_owner(1, org_id=3, partner_id=9, now=T0, generation=off.generation)
    off.remember(ALICE, 1, joined(upto=5), off.generation)
    assert off.owner(1, T0) is None and off.joined(ALICE, 1, heard=0, now=T0) is None


def test_what_depends_on_the_instant_is_worked_out_at_each_join() -> None:
    remembered = joined(upto=5)
    early, _, _ = remembered.view(T0, Policy())
    late, _, _ = remembered.view(T0 + timedelta(hours=2), Policy())
    assert early["overdue"] is False and late["overdue"] is True
    resolved = joined(upto=6, status="resolved", resolved_at=T0)
    now_state, _, _ = resolved.view(T0 + timedelta(hours=1), Policy())
    much_later, _, _ = resolved.view(T0 + timedelta(days=400), Policy())
    assert now_state["may_reopen"] is True and now_state["may_rate"] is True
    assert much_later["may_reopen"] is False and much_later["may_rate"] is False
    not_theirs, _, _ = joined(upto=6, status="resolved", resolved_at=T0, client=False).view(T0, Policy())
    assert not_theirs["may_reopen"] is False and not_theirs["may_rate"] is False
