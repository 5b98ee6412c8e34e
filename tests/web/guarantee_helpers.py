"""Accounts and client addresses of a test's own, for the guarantee tests (they change what they create only)."""

from __future__ import annotations

import asyncio
import re
import secrets

from tests.conftest import PASSWORD, Deployment
from tests.utils import cli


async def new_account(d: Deployment, role: str = "client", tier: int | None = None) -> tuple[str, int]:
    """A fresh account made the operator's way (`livesupport user add`); (e-mail, id)."""
    tag = secrets.token_hex(4)
    email = f"{role}-{tag}@guarantee-{tag}.test"
    args = ["user", "add", "--email", email, "--password", PASSWORD, "--role", role, "--name", f"{role.title()} {tag}"]
    if role in ("client", "domain_admin", "partner"):
        args += ["--org", f"Guarantee {tag}"]
    if tier is not None:
        args += ["--tier", str(tier)]
    made = await asyncio.to_thread(cli, d, *args)
    assert made.returncode == 0, made.stderr
    found = re.search(r"\(id (\d+)", made.stdout)
    assert found, made.stdout
    return email, int(found.group(1))


def own_address() -> str:
    """A client address no other test uses (TEST-NET-2), sent as X-Forwarded-For, which the server trusts
    from 127.0.0.1 (uvicorn's proxy headers)."""
    return f"198.51.{secrets.randbelow(100) + 100}.{secrets.randbelow(250) + 1}"
