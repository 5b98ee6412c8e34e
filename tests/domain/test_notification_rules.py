"""The notification rules, table by table: who follows, when mail is due, the digest hour, retries, the words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain.errors import BadRequestError
from livesupport.domain.notifications import (
    Mode,
    check_hour,
    check_mode,
    digest_day,
    followers,
    mail_due,
    reason_for,
    retry_delay,
)
from livesupport.domain.update_mail import TicketUpdates, Update, describe, digest_mail, ticket_mail

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 27, 15, 4, tzinfo=UTC)  # 10:04 in New York
OPENER, ENGINEER, HELPER, WATCHER = 1, 7, 8, 3


@pytest.mark.parametrize(("user", "chosen", "expected"), [
    (OPENER, {}, "opened"),
    (ENGINEER, {}, "assignee"),
    (HELPER, {}, "member"),
    (WATCHER, {}, None),
    (WATCHER, {WATCHER: ("follow", False)}, "follow"),
    (WATCHER, {WATCHER: ("added", False)}, "added"),
    (OPENER, {OPENER: ("follow", True)}, None),  # unfollowing wins over opening it
    (ENGINEER, {ENGINEER: ("follow", True)}, None),  # and over being assigned
    (ENGINEER, {ENGINEER: ("follow", False)}, "assignee"),  # the role is the better reason to show
])
def test_who_follows_and_why(user: int, chosen: dict[int, tuple[str, bool]], expected: str | None) -> None:
    assert reason_for(user, OPENER, {ENGINEER}, {HELPER}, chosen) == expected


def test_followers_of_a_ticket() -> None:
    got = followers(OPENER, {ENGINEER}, {HELPER, ENGINEER}, {WATCHER: ("follow", False), OPENER: ("follow", True)})
    assert got == {ENGINEER: "assignee", HELPER: "member", WATCHER: "follow"}


@pytest.mark.parametrize(("value", "expected"), [("immediate", Mode.IMMEDIATE), ("daily", Mode.DAILY),
                                                 ("off", Mode.OFF)])
def test_modes(value: str, expected: Mode) -> None:
    assert check_mode(value) is expected


@pytest.mark.parametrize("value", ["hourly", "", None, 3, "IMMEDIATE"])
def test_bad_modes_are_refused_in_words(value: object) -> None:
    with pytest.raises(BadRequestError, match="immediately, a daily digest, or never"):
        check_mode(value)


@pytest.mark.parametrize(("value", "expected"), [(0, 0), ("9", 9), (" 23 ", 23)])
def test_hours(value: object, expected: int) -> None:
    assert check_hour(value) == expected


@pytest.mark.parametrize("value", [24, -1, "7.5", "nine", True, None, "", 9.0])
def test_bad_hours_are_refused_in_words(value: object) -> None:
    with pytest.raises(BadRequestError, match="from 0 .* to 23"):
        check_hour(value)


def test_mail_waits_out_the_window() -> None:
    assert mail_due(AT, timedelta(minutes=5)) == AT + timedelta(minutes=5)


@pytest.mark.parametrize(("at", "hour", "expected"), [
    (AT, 10, date(2026, 11, 27)),  # 10:04 local: the 10 o'clock digest is due
    (AT, 11, None),
    (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), 8, date(2026, 11, 27)),  # 22:00 locally: still the 27th
    (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), 22, date(2026, 11, 27)),
    (datetime(2026, 11, 28, 5, 0, tzinfo=UTC), 0, date(2026, 11, 28)),  # just after local midnight
])
def test_the_digest_day_is_local(at: datetime, hour: int, expected: date | None) -> None:
    assert digest_day(at, NY, hour) == expected


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (6, 960), (8, 3600), (30, 3600)])
def test_retries_back_off(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


DANA = {"id": ENGINEER, "name": "Dana Engineer", "role": "staff", "tier": 2}


@pytest.mark.parametrize(("kind", "data", "staff", "words"), [
    ("chat", {"body": "Try restarting.", "visibility": "public"}, False, ["Dana Engineer wrote:", "    Try restarting."]),
    ("chat", {"body": "", "attachments": [{"name": "log.txt"}]}, False, ["(attached: log.txt)"]),
    ("status", {"status": "waiting_on_client", "next_update_at": None}, False, ["set the status to Waiting on you."]),
    ("status", {"status": "waiting_on_client", "next_update_at": None}, True, ["status to Waiting on client."]),
    ("status", {"status": "in_progress", "next_update_at": "2026-11-27T20:00:00Z"}, False,
     ["In progress; next update by Nov 27, 3:00 PM EST."]),
    ("assignment", {"assignees": [DANA], "added": [7], "removed": []}, False, ["assigned Dana Engineer."]),
    ("assignment", {"assignees": [], "added": [], "removed": [7]}, False, ["unassigned everyone."]),
    ("task", {"change": "created", "task": {"title": "Check DNS", "state": "todo"}}, False,
     ["added the task \u201cCheck DNS\u201d (todo)."]),
    ("task", {"change": "updated", "task": {"title": "Check DNS", "state": "done", "note": "root cause"}}, True,
     ["updated the task", "Note for the team: root cause"]),
    ("member", {"user": DANA, "change": "invited", "message": "look at the logs"}, True,
     ["brought Dana Engineer into the team.", "look at the logs"]),
])
def test_updates_in_words(kind: str, data: dict[str, object], staff: bool, words: list[str]) -> None:
    text = "\n".join(describe(Update(3, kind, AT, DANA, data), staff, NY))
    assert text.startswith("Nov 27, 10:04 AM EST  ")
    for w in words:
        assert w in text


def test_an_internal_note_says_so_and_a_long_message_is_cut() -> None:
    note = "\n".join(describe(Update(4, "chat", AT, DANA, {"body": "x"}, internal=True), True, NY))
    assert "left an internal note" in note
    long = "\n".join(describe(Update(5, "chat", AT, DANA, {"body": "word " * 1000}), False, NY))
    assert long.endswith("[…]") and len(long) < 2_200


def _updates(n: int, more: int = 0) -> TicketUpdates:
    return TicketUpdates(12, "VPN drops", "https://desk.test/tickets/12",
                         [Update(i, "chat", AT, DANA, {"body": f"message {i}"}) for i in range(1, n + 1)], more,
                         "opened", "https://desk.test/unsubscribe/abc")


def test_a_ticket_mail() -> None:
    subject, body = ticket_mail("Alice", _updates(3), False, NY, "https://desk.test/account#notifications")
    assert subject == "[#12] VPN drops"
    assert "3 new updates on ticket #12" in body and "message 1" in body and "message 3" in body
    assert "Open the ticket: https://desk.test/tickets/12" in body
    assert "because you opened this ticket" in body and "https://desk.test/unsubscribe/abc" in body
    _, more = ticket_mail("Alice", _updates(2, more=5), False, NY, "/account")
    assert "7 new updates" in more and "… and 5 more updates on the ticket." in more


def test_a_digest() -> None:
    other = TicketUpdates(13, "Printer", "https://desk.test/tickets/13", [Update(1, "status", AT, DANA,
                          {"status": "resolved"})], 0, "follow", "")
    subject, body = digest_mail("Bob", "2026-11-27", [_updates(1), other], False, NY,
                                "https://desk.test/unsubscribe/all", "https://desk.test/account")
    assert subject == "Your support digest for 2026-11-27: 2 updates"
    assert body.index("== #12 VPN drops ==") < body.index("== #13 Printer ==")
    assert "set the status to Resolved." in body and "Stop all these e-mails: https://desk.test/unsubscribe/all" in body
