"""The pure rules, table-driven and synchronous."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from livesupport.domain import tickets as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError, TooLargeError
from livesupport.domain.passwords import check_new, normalise
from livesupport.domain.people import Person, Role, can_see_org
from livesupport.domain.throttle import FailureThrottle

CLIENT = Person(1, "Alice", Role.CLIENT, org_id=10)
PARTNER = Person(2, "Pat", Role.PARTNER, org_id=20)
STAFF = Person(3, "Dana", Role.STAFF, tier=2)
ADMIN = Person(4, "Root", Role.ADMIN)
NO_ORG = Person(5, "Nobody", Role.CLIENT)


@pytest.mark.parametrize(
    ("person", "org_id", "partner_id", "allowed"),
    [
        (CLIENT, 10, None, True),
        (CLIENT, 11, None, False),
        (CLIENT, 11, 10, False),  # a client is not a partner of anyone
        (PARTNER, 20, None, True),
        (PARTNER, 30, 20, True),  # its own client
        (PARTNER, 31, 21, False),
        (STAFF, 99, None, True),
        (ADMIN, 99, 5, True),
        (NO_ORG, 10, None, False),
    ],
)
def test_who_sees_which_organisation(person: Person, org_id: int, partner_id: int | None, allowed: bool) -> None:
    assert can_see_org(person, org_id, partner_id) is allowed


@pytest.mark.parametrize(
    ("person", "visibility", "result", "error"),
    [
        (CLIENT, None, "public", None),
        (CLIENT, "public", "public", None),
        (CLIENT, "internal", None, ForbiddenError),
        (STAFF, "internal", "internal", None),
        (STAFF, "secret", None, BadRequestError),
        (STAFF, 1, None, BadRequestError),
    ],
)
def test_visibility(person: Person, visibility: object, result: str | None, error: type | None) -> None:
    if error:
        with pytest.raises(error):
            rules.check_visibility(person, visibility)
    else:
        assert rules.check_visibility(person, visibility) == result


def test_only_staff_see_internal() -> None:
    assert rules.may_see(STAFF, "internal") and rules.may_see(CLIENT, "public")
    assert not rules.may_see(CLIENT, "internal") and not rules.may_see(PARTNER, "internal")


@pytest.mark.parametrize(
    ("body", "error"),
    [("hi", None), ("x" * 10_000, None), ("x" * 10_001, TooLargeError), ("", BadRequestError),
     (" \n\t", BadRequestError), (None, BadRequestError), (["a"], BadRequestError)],
)
def test_body_limits(body: object, error: type | None) -> None:
    if error:
        with pytest.raises(error):
            rules.check_body(body)
    else:
        assert rules.check_body(body) == body


@pytest.mark.parametrize(
    ("value", "instant"),
    [("2030-01-02T14:30:00Z", datetime(2030, 1, 2, 14, 30, tzinfo=UTC)),
     ("2030-01-02T14:30:00+05:30", datetime(2030, 1, 2, 9, 0, tzinfo=UTC)),
     ("2030-01-02T09:30:00-05:00", datetime(2030, 1, 2, 14, 30, tzinfo=UTC)),
     (None, None)],
)
def test_instants_with_an_offset_are_read_as_that_instant(value: object, instant: datetime | None) -> None:
    at = rules.parse_instant(value, "next_update_at")
    assert at == instant and (at is None or at.utcoffset() is not None)


@pytest.mark.parametrize("value", ["2030-01-02T14:30:00", "tomorrow", 1700000000, "", "2030-13-02T14:30:00Z"])
def test_instants_need_an_offset(value: object) -> None:
    with pytest.raises(BadRequestError, match="next_update_at"):
        rules.parse_instant(value, "next_update_at")


def test_status_is_for_staff_and_known_values() -> None:
    assert rules.check_status(STAFF, "resolved") is rules.Status.RESOLVED
    with pytest.raises(ForbiddenError):
        rules.check_status(CLIENT, "resolved")
    with pytest.raises(BadRequestError, match="new, triage"):
        rules.check_status(STAFF, "done")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("pass word", "pass word"),
        ("pass\u00a0word", "pass word"),  # a phone's no-break space is a space
        ("cafe\u0301 au lait", "café au lait"),  # decomposed é composes
        ("  spaces kept  ", "  spaces kept  "),  # nothing is stripped
        ("\"quotes' & <tags>", "\"quotes' & <tags>"),
        ("🔑🔑🔑🔑🔑🔑🔑🔑", "🔑🔑🔑🔑🔑🔑🔑🔑"),
    ],
)
def test_password_normalisation(typed: str, stored: str) -> None:
    assert normalise(typed) == stored


def test_password_length_rules() -> None:
    assert check_new("x" * 1000) == "x" * 1000
    with pytest.raises(BadRequestError, match="at least 8"):
        check_new("short")
    with pytest.raises(TooLargeError):
        check_new("x" * 5000)


def test_throttle_window() -> None:
    t = FailureThrottle(limit=3, window=60)
    for now in (0, 1, 2):
        assert t.retry_after("k", now) == 0
        t.fail("k", now)
    assert t.retry_after("k", 3) == pytest.approx(57)
    assert t.retry_after("other", 3) == 0
    assert t.retry_after("k", 60.5) == 0  # the first failure aged out
    t.clear("k")
    assert t.retry_after("k", 3) == 0


def test_domain_imports_nothing_but_itself() -> None:
    # io and zipfile only read bytes already in memory (files.py looks inside uploaded archives).
    allowed_roots = {"__future__", "collections", "dataclasses", "datetime", "enum", "typing", "unicodedata",
                     "livesupport", "math", "re", "zoneinfo", "io", "zipfile",
                     "tarfile", "bz2", "lzma", "zlib",  # archives.py: unpacking bytes in memory
                     "hashlib", "hmac", "pyotp",  # otp.py: code arithmetic only
                     "puremagic",  # file_formats.py: signatures of bytes in memory
                     "urllib",  # paths.py: urllib.parse splits and unquotes strings, nothing more
                     "ipaddress",  # webhooks.py: which networks an address is on, arithmetic only
                     "jinja2"}  # macros.py: a canned reply's placeholders, parsed and filled in a sandbox
    domain = Path(__file__).resolve().parents[2] / "livesupport" / "domain"
    for path in domain.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root in allowed_roots, f"{path.name} imports {name}"
                if root == "livesupport":
                    assert name.startswith("livesupport.domain"), f"{path.name} imports {name}"
