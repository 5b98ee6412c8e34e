"""The transfer rules, table-driven: business-day deadlines, which milestone comes next, reminders, the survey's checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from livesupport.domain import calendar
from livesupport.domain import transfers as rules

NY = ZoneInfo("America/New_York")
HOLIDAYS = frozenset({date(2026, 12, 25), date(2027, 1, 1)})


@pytest.mark.parametrize(("start", "days", "end"), [
    # Local New York times; the deadline is the end of the n-th business day after the start's day.
    (datetime(2026, 11, 23, 9, 0, tzinfo=NY), 2, datetime(2026, 11, 25, 23, 59, 59, tzinfo=NY)),  # Mon + 2: Wed
    (datetime(2026, 11, 27, 16, 0, tzinfo=NY), 2, datetime(2026, 12, 1, 23, 59, 59, tzinfo=NY)),  # Fri + 2: Tue
    (datetime(2026, 11, 28, 10, 0, tzinfo=NY), 1, datetime(2026, 11, 30, 23, 59, 59, tzinfo=NY)),  # Sat + 1: Mon
    (datetime(2026, 12, 24, 10, 0, tzinfo=NY), 1, datetime(2026, 12, 28, 23, 59, 59, tzinfo=NY)),  # holiday skipped
    (datetime(2026, 12, 31, 10, 0, tzinfo=NY), 2, datetime(2027, 1, 5, 23, 59, 59, tzinfo=NY)),  # New Year skipped
    (datetime(2026, 11, 24, 4, 30, tzinfo=UTC), 1, datetime(2026, 11, 24, 23, 59, 59, tzinfo=NY)),  # still Mon in NY
    (datetime(2027, 3, 5, 12, 0, tzinfo=NY), 5, datetime(2027, 3, 12, 23, 59, 59, tzinfo=NY)),  # across the DST change
])
def test_deadlines_count_business_days_in_the_company_zone(start: datetime, days: int, end: datetime) -> None:
    assert calendar.end_of_business_days(start, days, NY, HOLIDAYS) == end


def test_a_deadline_is_at_least_a_day_away() -> None:
    with pytest.raises(ValueError):
        calendar.end_of_business_days(datetime(2026, 11, 23, tzinfo=NY), 0, NY, HOLIDAYS)


@pytest.mark.parametrize(("spec", "problem"), [
    ("confirm=2,partner=5,provider=5,move=3", "no number of days for complete"),
    ("confirm=2,partner=5,provider=5,move=3,complete=0", "1 to 60"),
    ("confirm=two,partner=5,provider=5,move=3,complete=2", "business days"),
    ("confirm=2,partnr=5,provider=5,move=3,complete=2", "unknown milestone 'partnr'"),
])
def test_transfer_days_setting_is_checked(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        rules.parse_days(spec)


def M(kind: str, state: str) -> rules.Milestone:  # noqa: N802 - a table's shorthand
    return rules.Milestone(rules.Kind(kind), state)


@pytest.mark.parametrize(("milestones", "ready"), [
    ([M("confirm", "active"), M("partner", "pending"), M("provider", "pending"), M("move", "pending")], []),
    ([M("confirm", "done"), M("partner", "pending"), M("provider", "pending"), M("move", "pending")],
     ["partner", "provider"]),
    ([M("confirm", "done"), M("partner", "done"), M("provider", "active"), M("move", "pending")], []),
    ([M("confirm", "done"), M("partner", "done"), M("provider", "done"), M("move", "pending")], ["move"]),
    ([M("confirm", "done"), M("partner", "done"), M("move", "pending"), M("complete", "pending")], ["move"]),
    ([M("confirm", "done"), M("partner", "done"), M("move", "done"), M("complete", "pending")], ["complete"]),
    ([M("confirm", "cancelled"), M("partner", "cancelled"), M("move", "cancelled")], []),
])
def test_what_starts_next(milestones: list[rules.Milestone], ready: list[str]) -> None:
    assert [k.value for k in rules.to_start(milestones)] == ready


def test_the_plan_has_a_provider_step_only_with_a_provider() -> None:
    assert [s.kind.value for s in rules.plan(True)] == ["confirm", "partner", "provider", "move", "complete"]
    assert [s.kind.value for s in rules.plan(False)] == ["confirm", "partner", "move", "complete"]
    assert rules.goes_on_without(rules.Kind.PARTNER) and not rules.goes_on_without(rules.Kind.CONFIRM)


START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
DUE = START + timedelta(days=5)


@pytest.mark.parametrize(("now", "reminded", "due"), [
    (DUE - timedelta(hours=25), False, False),
    (DUE - timedelta(hours=24), False, True),
    (DUE - timedelta(minutes=1), False, True),
    (DUE - timedelta(minutes=1), True, False),  # once
    (DUE, False, False),  # past it: escalation, not a reminder
])
def test_reminders_go_a_day_before(now: datetime, reminded: bool, due: bool) -> None:
    m = rules.Milestone(rules.Kind.PARTNER, "active", DUE, reminded)
    assert rules.reminder_due(m, START, now, timedelta(hours=24)) is due


def test_a_short_milestone_is_reminded_half_way() -> None:
    m = rules.Milestone(rules.Kind.CONFIRM, "active", START + timedelta(hours=10))
    assert not rules.reminder_due(m, START, START + timedelta(hours=4), timedelta(hours=24))
    assert rules.reminder_due(m, START, START + timedelta(hours=5), timedelta(hours=24))


def test_overdue_is_from_the_deadline_on() -> None:
    m = rules.Milestone(rules.Kind.PARTNER, "active", DUE)
    assert not rules.is_overdue(m, DUE - timedelta(seconds=1)) and rules.is_overdue(m, DUE)
    assert not rules.is_overdue(rules.Milestone(rules.Kind.PARTNER, "done", DUE), DUE + timedelta(days=1))


CTX = rules.SurveyContext(date(2026, 11, 27), {7: "Old Partner LLC"}, ["Hosted e-mail", "Spam filter"])
TOO_LONG = "x" * 201


@pytest.mark.parametrize(("step", "form", "field", "words"), [
    (1, {"org_name": "", "contact_name": "A", "contact_email": "a@b.test"}, "org_name", "Enter your organisation"),
    (1, {"org_name": TOO_LONG, "contact_name": "A", "contact_email": "a@b.test"}, "org_name", "at most 200"),
    (1, {"org_name": "Acme", "contact_name": "   ", "contact_email": "a@b.test"}, "contact_name", "Enter your full name"),
    (1, {"org_name": "Acme", "contact_name": "A", "contact_email": "not-an-address"}, "contact_email",
     "is not an e-mail address"),
    (1, {"org_name": "Acme", "contact_name": "A", "contact_email": "a@b"}, "contact_email", "not an e-mail address"),
    (1, {"org_name": "Acme", "contact_name": "A", "contact_email": "a@b.test", "contact_phone": "call me"},
     "contact_phone", "phone number has digits"),
    (2, {"reason": ""}, "reason", "Choose why"),
    (2, {"reason": "bribery"}, "reason", "Choose why"),
    (2, {"reason": "other", "reason_detail": ""}, "reason_detail", "Tell us in a few words"),
    (2, {"reason": "own_it", "reason_detail": "y" * 1001}, "reason_detail", "At most 1000"),
    (3, {"partner_org_id": "99", "partner_contact": "P", "partner_email": "p@p.test"}, "partner_org_id",
     "Choose your partner from the list"),
    (3, {"partner_name": "", "partner_contact": "P", "partner_email": "p@p.test"}, "partner_name",
     "Choose your partner from the list, or type its name"),  # partners on record: either of the two
    (3, {"partner_org_id": "7", "partner_contact": "", "partner_email": "p@p.test"}, "partner_contact", "Enter the name"),
    (3, {"partner_org_id": "7", "partner_contact": "P", "partner_email": "me@acme.test"}, "partner_email",
     "your own address"),
    (4, {"destination": ""}, "destination", "Choose where"),
    (4, {"destination": "partner", "provider_name": "", "provider_contact": "N", "provider_email": "n@n.test"},
     "provider_name", "Enter the new provider"),
    (4, {"destination": "partner", "provider_name": "N", "provider_contact": "N", "provider_email": "bad"},
     "provider_email", "not an e-mail address"),
    (5, {"services": []}, "services", "Tick the services"),
    (5, {"services": ["Hosted e-mail", "Free lunches"]}, "services", "Choose among your services"),
    (5, {"services": [], "services_other": "z" * 501}, "services_other", "At most 500"),
    (6, {"desired_date": ""}, "desired_date", "Enter the date"),
    (6, {"desired_date": "27/12/2026"}, "desired_date", "like 2027-01-15"),
    (6, {"desired_date": "2026-11-26"}, "desired_date", "has passed"),
    (6, {"desired_date": "2028-01-01"}, "desired_date", "within the next year"),
])
def test_every_survey_answer_is_checked(step: int, form: dict[str, object], field: str, words: str) -> None:
    _, errors = rules.check_step(step, form, CTX, {"contact_email": "me@acme.test"})
    assert field in errors and words in errors[field], errors


@pytest.mark.parametrize(("step", "form", "expected"), [
    (1, {"org_name": " Acme ", "contact_name": "Alice", "contact_email": "Alice@Acme.TEST", "contact_phone": ""},
     {"org_name": "Acme", "contact_email": "alice@acme.test"}),
    (3, {"partner_org_id": "7", "partner_contact": "Pat", "partner_email": "pat@old.test"},
     {"partner_org_id": 7, "partner_name": "Old Partner LLC"}),
    (4, {"destination": "vendor"}, {"destination": "vendor", "provider_email": ""}),
    (5, {"services": ["Spam filter"], "services_other": ""}, {"services": ["Spam filter"]}),
    (6, {"desired_date": "2026-11-27"}, {"desired_date": "2026-11-27"}),  # today is fine
])
def test_good_answers_pass_cleaned(step: int, form: dict[str, object], expected: dict[str, object]) -> None:
    cleaned, errors = rules.check_step(step, form, CTX, {})
    assert errors == {}
    assert {k: cleaned[k] for k in expected} == expected


def test_the_waiver_text_names_everyone_and_its_hash_is_stable() -> None:
    text = rules.waiver_text(12, "Harbour Dental", "Old Partner LLC", ["Hosted e-mail"], "livesupport")
    assert "Harbour Dental" in text and "Old Partner LLC" in text and "Hosted e-mail" in text
    assert rules.text_hash(text) == rules.text_hash(text) and len(rules.text_hash(text)) == 64
    assert rules.text_hash(text) != rules.text_hash(text.replace("12", "13"))


def test_with_no_partner_on_record_the_partner_is_named() -> None:
    ctx = rules.SurveyContext(date(2026, 11, 27), {}, [])
    _, errors = rules.check_step(3, {"partner_name": "", "partner_contact": "P", "partner_email": "p@p.test"}, ctx, {})
    assert errors == {"partner_name": "Enter your current partner's name."}
