"""Argon2id hashing off the event loop: a hash must never stall the sockets."""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from livesupport.domain.passwords import check_new, normalise

# OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
# Verified against when the account does not exist, so both answers take as long.
_DUMMY = HASHER.hash("not a real password, only for timing")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_POOL, HASHER.hash, normalise(password))


def hash_password_sync(password: str) -> str:
    return HASHER.hash(normalise(password))


async def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the parameters changed since it was stored)."""
    candidate = normalise(password)

    def work() -> tuple[bool, str | None]:
        try:
            HASHER.verify(stored or _DUMMY, candidate)
        except (VerificationError, InvalidHashError):
            return False, None
        if stored is None:
            return False, None
        return True, HASHER.hash(candidate) if HASHER.check_needs_rehash(stored) else None

    return await asyncio.get_running_loop().run_in_executor(_POOL, work)


@cache
def common_passwords() -> frozenset[str]:
    """The list shipped with the package (see livesupport/data/NOTICE.md)."""
    path = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def check_new_password(password: object) -> str:
    return check_new(password, common_passwords())
