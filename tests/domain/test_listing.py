"""Reading GET /api/tickets' query string: every good spelling, and every bad one refused naming its parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain.errors import LivesupportError
from livesupport.domain.listing import DEFAULT_LIMIT, BadParameterError, ListQuery, parse_query


def q(**params: str | list[str]) -> ListQuery:
    return parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def test_nothing_asked_is_the_default_list() -> None:
    assert parse_query({}) == ListQuery(sort="-updated", limit=DEFAULT_LIMIT)


@pytest.mark.parametrize(("params", "field", "value"), [
    ({"status": ["triage", "new", "new"]}, "statuses", ("new", "triage")),  # sorted, each once
    ({"priority": "urgent"}, "priority", "urgent"),
    ({"assignee": "me"}, "assignee", "me"),
    ({"assignee": "none"}, "assignee", "none"),
    ({"assignee": "42"}, "assignee", 42),
    ({"org": "7"}, "org", 7),
    ({"overdue": "true"}, "overdue", True),
    ({"overdue": "false"}, "overdue", False),
    ({"waiting_on": "client"}, "waiting_on", "client"),
    ({"waiting_on": "us"}, "waiting_on", "us"),
    ({"updated_after": "2026-12-03T10:30:00+01:00"}, "updated_after",
     datetime(2026, 12, 3, 10, 30, tzinfo=timezone(timedelta(hours=1)))),
    ({"updated_before": "2026-12-03T09:30:00Z"}, "updated_before", datetime(2026, 12, 3, 9, 30, tzinfo=UTC)),
    ({"sort": "next_update"}, "sort", "next_update"),
    ({"sort": "priority"}, "sort", "priority"),
    ({"sort": "-created"}, "sort", "-created"),
    ({"limit": "1"}, "limit", 1),
    ({"limit": "100"}, "limit", 100),
    ({"cursor": "abc"}, "cursor", "abc"),
    ({"colour": "blue"}, "sort", "-updated"),  # unknown parameters are ignored
    ({"q": "printer"}, "sort", "relevance"),  # a search is ranked unless told otherwise
    ({"q": "printer", "sort": "-updated"}, "sort", "-updated"),
    ({"q": "printer toner"}, "q", "printer toner"),
])
def test_good_parameters(params: dict[str, str | list[str]], field: str, value: object) -> None:
    assert getattr(q(**params), field) == value


@pytest.mark.parametrize(("params", "parameter", "words"), [
    ({"status": "open"}, "status", "'open' is not one of new, triage"),
    ({"status": ["new"] * 21}, "status", "at most 20"),
    ({"priority": "Urgent"}, "priority", "is not one of low, normal, high, urgent"),
    ({"priority": ["low", "high"]}, "priority", "give it once"),
    ({"assignee": "someone"}, "assignee", "neither me, none nor a user id"),
    ({"assignee": "0"}, "assignee", "neither me, none nor a user id"),
    ({"assignee": "١٢"}, "assignee", "neither me, none nor a user id"),  # other scripts' digits
    ({"org": "-1"}, "org", "not an organisation id"),
    ({"org": "1_0"}, "org", "not an organisation id"),
    ({"org": "99999999999"}, "org", "not an organisation id"),
    ({"overdue": "yes"}, "overdue", "is not one of true, false"),
    ({"waiting_on": "them"}, "waiting_on", "is not one of client, us"),
    ({"updated_after": "2026-12-03"}, "updated_after", "has no UTC offset"),
    ({"updated_after": "2026-12-03T09:30:00"}, "updated_after", "has no UTC offset"),
    ({"updated_after": "yesterday"}, "updated_after", "is not an instant"),
    ({"updated_before": "2026-13-01T00:00:00Z"}, "updated_before", "is not an instant"),
    ({"updated_after": "2026-12-03T10:00:00Z", "updated_before": "2026-12-03T10:00:00Z"}, "updated_before",
     "must come after updated_after"),
    ({"updated_from": "yesterday"}, "updated_from", "'yesterday' is not a day: write it as YYYY-MM-DD"),
    ({"updated_from": "2026-12-03T00:00:00Z"}, "updated_from", "is not a day"),  # an instant: updated_after
    ({"updated_to": "20261203"}, "updated_to", "is not a day"),  # ISO's short form: not what a date input sends
    ({"updated_to": "2026-02-30"}, "updated_to", "is not a day"),
    ({"updated_to": "2026-12-3"}, "updated_to", "is not a day"),
    ({"updated_from": "١٢٣٤-١٢-٠٣"}, "updated_from", "is not a day"),  # other scripts' digits
    ({"updated_from": "0001-01-01"}, "updated_from", "out of range: give a day from 1970-01-01 to 9998-12-31"),
    ({"updated_to": "9999-12-31"}, "updated_to", "out of range"),
    ({"updated_from": ["2026-12-03", "2026-12-04"]}, "updated_from", "give it once"),
    ({"updated_from": "2026-12-05", "updated_to": "2026-12-03"}, "updated_to",
     "2026-12-03 is before updated_from (2026-12-05), so nothing can match"),
    ({"sort": "updated"}, "sort", "is not one of -updated, created"),
    ({"limit": "0"}, "limit", "from 1 to 100"),
    ({"limit": "101"}, "limit", "from 1 to 100"),
    ({"limit": "５"}, "limit", "from 1 to 100"),  # a full-width digit
    ({"limit": " 5"}, "limit", "from 1 to 100"),
    ({"limit": "5.0"}, "limit", "from 1 to 100"),
    ({"cursor": ""}, "cursor", "it is empty"),
    ({"sort": "relevance"}, "sort", "give q too"),
    ({"q": ["printer", "toner"]}, "q", "give it once"),
])
def test_bad_parameters_are_refused_by_name(params: dict[str, str | list[str]], parameter: str, words: str) -> None:
    with pytest.raises(BadParameterError) as caught:
        q(**params)
    assert caught.value.code == "bad_parameter"
    assert caught.value.parameter == parameter
    assert caught.value.message.startswith(f"{parameter}: ")
    assert words in caught.value.message


def test_the_fingerprint_is_the_question_not_its_spelling_or_page() -> None:
    base = q(status=["new", "triage"], sort="created", updated_after="2026-12-03T10:00:00+01:00")
    same = q(status=["triage", "new", "new"], sort="created", updated_after="2026-12-03T10:00:00+01:00",
             limit="7", cursor="x")
    assert base.fingerprint() == same.fingerprint()
    for other in (q(status=["new"], sort="created", updated_after="2026-12-03T10:00:00+01:00"),
                  q(status=["new", "triage"], sort="-created", updated_after="2026-12-03T10:00:00+01:00"),
                  q(status=["new", "triage"], sort="created", updated_after="2026-12-03T10:00:01+01:00"),
                  q(status=["new", "triage"], sort="created", updated_after="2026-12-03T10:00:00+01:00",
                    assignee="me"),
                  q(status=["new", "triage"], sort="created", updated_after="2026-12-03T10:00:00+01:00",
                    q="printer")):
        assert other.fingerprint() != base.fingerprint()


NEW_YORK, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("first", "last", "zone", "since", "until"), [
    # From the first day's midnight to the midnight after the last day, on the asker's clock.
    ("2026-12-03", "2026-12-05", NEW_YORK, "2026-12-03T05:00:00", "2026-12-06T05:00:00"),
    ("2026-12-03", "2026-12-03", TOKYO, "2026-12-02T15:00:00", "2026-12-03T15:00:00"),  # one whole day
    ("2026-12-03", None, UTC, "2026-12-03T00:00:00", None),
    (None, "2026-12-05", UTC, None, "2026-12-06T00:00:00"),
    # Across a change of the clocks: New York's 8 March 2026 is 23 hours long, 1 November 25.
    ("2026-03-08", "2026-03-08", NEW_YORK, "2026-03-08T05:00:00", "2026-03-09T04:00:00"),
    ("2026-11-01", "2026-11-01", NEW_YORK, "2026-11-01T04:00:00", "2026-11-02T05:00:00"),
    # Where midnight itself is skipped (Santiago, 6 September 2026), the day starts at the moment it does.
    ("2026-09-06", None, ZoneInfo("America/Santiago"), "2026-09-06T04:00:00", None),
    ("1970-01-01", "9998-12-31", TOKYO, "1969-12-31T15:00:00", "9998-12-31T15:00:00"),  # the widest range
])
def test_days_are_whole_days_on_the_askers_clock(first: str | None, last: str | None, zone: ZoneInfo,
                                                 since: str | None, until: str | None) -> None:
    params = {**({"updated_from": [first]} if first else {}), **({"updated_to": [last]} if last else {})}
    asked = parse_query(params, zone)
    assert asked.updated_from == (date.fromisoformat(first) if first else None)
    assert asked.updated_to == (date.fromisoformat(last) if last else None)
    instant = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None  # noqa: E731
    assert (asked.updated_since, asked.updated_until) == (instant(since), instant(until))


def test_the_same_days_elsewhere_are_another_question() -> None:
    days = {"updated_from": ["2026-12-03"], "updated_to": ["2026-12-05"]}
    assert parse_query(days, NEW_YORK).fingerprint() == parse_query(days, NEW_YORK).fingerprint()
    assert parse_query(days, NEW_YORK).fingerprint() != parse_query(days, TOKYO).fingerprint()
    # Without days the fingerprint is spelt as before they existed: cursors already given out still hold.
    assert parse_query({"sort": ["created"]}, TOKYO).fingerprint() == q(sort="created").fingerprint()


@pytest.mark.parametrize(("given", "words"), [
    ("", "Type something"), ("   ", "Type something"), ("x" * 201, "the limit is 200"), ("-toner", "only -exclusions"),
])
def test_a_search_with_nothing_to_look_for_is_bad_query(given: str, words: str) -> None:
    with pytest.raises(LivesupportError) as caught:
        q(q=given)
    assert caught.value.code == "bad_query" and words in caught.value.message
