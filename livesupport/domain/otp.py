"""One-time codes (TOTP, RFC 6238): 30-second steps, one step of drift each way, and never the same step twice.

pyotp computes the codes; what it does not do is refuse a code that was already used, which is done here:
a code is accepted only for a time step later than the last one this account used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyotp

from livesupport.domain.errors import BadRequestError
from livesupport.domain.numbers import parse_code, same_secret

STEP = 30
DRIFT = 1  # steps accepted before and after the current one
DIGITS = 6
ALGORITHMS: dict[str, Callable[..., Any]] = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256,
                                              "SHA512": hashlib.sha512}


def totp(secret_b32: str, digits: int = DIGITS, algorithm: str = "SHA1") -> pyotp.TOTP:
    return pyotp.TOTP(secret_b32, digits=digits, digest=ALGORITHMS[algorithm], interval=STEP)


def code_at(secret_b32: str, unix_time: float, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    return totp(secret_b32, digits, algorithm).at(int(unix_time))


def clean_code(code: object, digits: int = DIGITS) -> str:
    """Accept what people type ("123 456", "123-456"); refuse what cannot be a code."""
    if not isinstance(code, str):
        raise BadRequestError("Enter the code from your authenticator app.")
    cleaned = parse_code(code, digits)
    if cleaned is None:
        raise BadRequestError(f"A code has {digits} digits (0 to 9).")
    return cleaned


def matching_step(
    secret_b32: str, code: str, unix_time: float, last_step: int | None,
    digits: int = DIGITS, algorithm: str = "SHA1",
) -> int | None:
    """The time step this code belongs to, if it is valid now and newer than the last one used; else None."""
    now_step = int(unix_time) // STEP
    generator = totp(secret_b32, digits, algorithm)
    found = None
    for step in range(now_step - DRIFT, now_step + DRIFT + 1):
        if same_secret(generator.generate_otp(step), code):
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def provisioning_uri(secret_b32: str, account: str, issuer: str) -> str:
    return totp(secret_b32).provisioning_uri(name=account, issuer_name=issuer)
