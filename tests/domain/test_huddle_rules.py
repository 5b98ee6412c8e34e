"""The SLA clock, the task rules and the attachment verdicts: pure functions, checked table by table."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from livesupport.domain import files, huddle, sla
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    RefusedFileError,
    TooLargeError,
)
from livesupport.domain.people import Person, Role
from livesupport.domain.tickets import Priority, Status

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
TARGETS = sla.parse_targets(sla.DEFAULT_TARGETS)


def test_default_targets() -> None:
    assert TARGETS[Priority.URGENT] == sla.Target(timedelta(minutes=15), timedelta(hours=1))
    assert TARGETS[Priority.LOW] == sla.Target(timedelta(hours=8), timedelta(hours=24))


@pytest.mark.parametrize(("spec", "words"), [
    ("urgent=15m/1h", "no target for low, normal, high"),
    ("urgent=15m,high=1h/4h,normal=4h/8h,low=8h/24h", "priority=response/update"),
    ("urgent=15x/1h,high=1h/4h,normal=4h/8h,low=8h/24h", "15m, 4h or 2d"),
    ("soon=1h/1h,urgent=15m/1h,high=1h/4h,normal=4h/8h,low=8h/24h", "unknown priority 'soon'"),
    ("urgent=0m/1h,high=1h/4h,normal=4h/8h,low=8h/24h", "15m, 4h or 2d"),
])
def test_bad_targets_are_explained(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        sla.parse_targets(spec)


def test_the_clock() -> None:
    assert sla.on_open(TARGETS, Priority.HIGH, NOW) == sla.NextUpdate(NOW + timedelta(hours=1), "sla")
    assert sla.on_staff_update(TARGETS, Priority.HIGH, Status.IN_PROGRESS, NOW).at == NOW + timedelta(hours=4)
    for paused in (Status.WAITING_ON_CLIENT, Status.RESOLVED, Status.CLOSED):
        assert sla.on_staff_update(TARGETS, Priority.HIGH, paused, NOW).at is None
    running = sla.NextUpdate(NOW + timedelta(hours=1), "staff")
    assert sla.on_client_message(TARGETS, Priority.HIGH, Status.IN_PROGRESS, running, NOW) is None
    stopped = sla.NextUpdate(None, "sla")
    restarted = sla.on_client_message(TARGETS, Priority.URGENT, Status.WAITING_ON_CLIENT, stopped, NOW)
    assert restarted == sla.NextUpdate(NOW + timedelta(minutes=15), "sla")
    assert sla.on_client_message(TARGETS, Priority.URGENT, Status.CLOSED, stopped, NOW) is None


@pytest.mark.parametrize(("status", "due", "overdue"), [
    ("in_progress", NOW - timedelta(seconds=1), True),
    ("in_progress", NOW, True),
    ("in_progress", NOW + timedelta(seconds=1), False),
    ("resolved", NOW - timedelta(hours=1), False),
    ("new", None, False),
])
def test_overdue(status: str, due: datetime | None, overdue: bool) -> None:
    assert sla.is_overdue(status, due, NOW) is overdue


@pytest.mark.parametrize(("person", "plan", "pin"), [
    (Person(1, "L1", Role.STAFF, tier=1), False, False),
    (Person(2, "L2", Role.STAFF, tier=2), True, False),
    (Person(3, "L3", Role.STAFF, tier=3), True, True),
    (Person(4, "Admin", Role.ADMIN), True, True),
    (Person(5, "Client", Role.CLIENT, org_id=1), False, False),
])
def test_who_plans_and_pins(person: Person, plan: bool, pin: bool) -> None:
    assert huddle.may_plan(person) is plan and huddle.may_pin(person) is pin
    if not plan:
        with pytest.raises(ForbiddenError):
            huddle.require_planner(person)


def test_task_changes() -> None:
    assert huddle.task_changes({"title": "  Call back "}, creating=True) == {"title": "Call back", "state": "todo"}
    assert huddle.task_changes({"state": "done"}, creating=False) == {"state": "done"}
    assert huddle.task_changes({"assignee_id": None}, creating=False) == {"assignee_id": None}
    with pytest.raises(BadRequestError, match="Say what changes"):
        huddle.task_changes({}, creating=False)
    with pytest.raises(TooLargeError):
        huddle.task_changes({"title": "x", "note": "n" * 2001}, creating=True)
    with pytest.raises(BadRequestError, match="offset"):
        huddle.task_changes({"due_at": "2026-11-27T14:00:00"}, creating=False)
    assert huddle.check_assignees([3, 3, 4]) == [3, 4]
    with pytest.raises(BadRequestError):
        huddle.check_assignees([True])


def _zip(**members: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name.replace("__", "/"), data)
    return buf.getvalue()


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    ("Grüße aus dem Büro\n".encode(), "text/plain"),
    (_zip(**{"[Content_Types].xml": b"<Types/>", "word__document.xml": b"<w/>"}),
     "application/vnd.openxmlformats-officedocument"),
    (_zip(**{"photos__beach.jpg": b"\xff\xd8\xff"}), "application/zip"),
    (b"\x00\x01\x02binary", "application/octet-stream"),
])
def test_harmless_files_are_named_by_their_bytes(data: bytes, kind: str) -> None:
    assert files.judge("whatever.name", data).content_type == kind


@pytest.mark.parametrize("data", [
    b"MZ\x90\x00", b"\x7fELF\x02\x01", b"\xcf\xfa\xed\xfe\x07", b"#!/usr/bin/env python\n",
    b"<html><script>alert(1)</script>", b"@echo off\r\ndel *.*", b"powershell -enc AAAA",
    _zip(**{"word__vbaProject.bin": b"\x00"}), _zip(**{"tools__run.ps1": b"x"}),
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Macros".encode("utf-16-le"),
])
def test_dangerous_bytes_are_refused_whatever_the_name(data: bytes) -> None:
    with pytest.raises(RefusedFileError):
        files.judge("holiday-photo.jpg", data)


@pytest.mark.parametrize(("name", "error"), [
    ("../secret", BadRequestError), ("a/b.txt", BadRequestError), ("c:\\x.txt", BadRequestError),
    ("..", BadRequestError), ("bell\x07.txt", BadRequestError), ("", BadRequestError),
    ("n" * 256, TooLargeError),
])
def test_names_with_paths_are_refused(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        files.check_name(name)


def test_names_are_kept_as_people_wrote_them() -> None:
    assert files.check_name(" Rapport final (v2) — été.pdf ") == "Rapport final (v2) — été.pdf"
