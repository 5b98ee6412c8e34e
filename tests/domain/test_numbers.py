"""The one reading of numbers from outside: ASCII digits only, in range; codes compared only once read."""

from __future__ import annotations

import pytest

from livesupport.domain.errors import BadRequestError
from livesupport.domain.ids import MAX_ID
from livesupport.domain.numbers import parse_code, parse_id, parse_int, require_id, same_secret
from livesupport.domain.otp import clean_code
from livesupport.domain.paths import safe_path
from livesupport.domain.phone import check_pin

#: What isdigit()/int() accept and a person never means as a number here.
ODD = ["²", "١٢", "１２", "+1", " 1", "1 ", "1_0", "-1", "9" * 30, "", "1.0", "0x1", "1e3", "٣", "𝟙"]


@pytest.mark.parametrize("text", ODD)
def test_odd_digits_are_no_id(text: str) -> None:
    assert parse_id(text) is None
    with pytest.raises(BadRequestError):
        require_id(text, "contact")


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1), ("42", 42), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("0", None), (7, 7), (True, None),
    (0, None), (MAX_ID + 1, None), (None, None), (1.0, None),
])
def test_ids_are_in_range(text: object, expected: int | None) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(("text", "lo", "hi", "expected"), [
    ("0", 0, 23, 0), ("23", 0, 23, 23), ("24", 0, 23, None), ("٢", 0, 23, None), ("2 ", 0, 23, None),
])
def test_bounded_integers(text: str, lo: int, hi: int, expected: int | None) -> None:
    assert parse_int(text, lo, hi) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("123456", "123456"), ("123 456", "123456"), ("123-456", "123456"), ("12345", None), ("1234567", None),
    ("١٢٣٤٥٦", None), ("１２３４５６", None), ("12345²", None), ("+12345", None), (123456, None),
])
def test_codes(text: object, expected: str | None) -> None:
    assert parse_code(text, 6) == expected


@pytest.mark.parametrize("text", ["١٢٣٤٥٦", "１２３４５６", "12345²", "12_456"])
def test_pin_and_otp_refuse_other_digits(text: str) -> None:
    with pytest.raises(BadRequestError):
        check_pin(text)
    with pytest.raises(BadRequestError):
        clean_code(text)


@pytest.mark.parametrize(("given", "expected", "same"), [
    ("abc", "abc", True), ("abc", "abd", False), ("é", "é", False), ("abc", "ābc", False), (None, "abc", False),
    (5, "5", False),
])
def test_same_secret_never_raises(given: object, expected: object, same: bool) -> None:
    assert same_secret(given, expected) is same


@pytest.mark.parametrize(("target", "expected"), [
    ("/\\evil.com", "/d"), ("/%09/evil.com", "/d"), ("//evil.com", "/d"), ("https://evil.com", "/d"),
    ("javascript:alert(1)", "/d"), ("/%2F/evil.com", "/d"), ("/%5Cevil.com", "/d"), ("/\t/evil.com", "/d"),
    ("/%2509/evil.com", "/d"), ("", "/d"), (None, "/d"), ("evil.com", "/d"), ("/ok/path", "/ok/path"),
    ("/tickets?status=open", "/tickets?status=open"), ("/tickets/7#x", "/tickets/7"),
])
def test_safe_path(target: object, expected: str) -> None:
    assert safe_path(target, "/d") == expected
