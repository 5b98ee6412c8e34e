"""The token cache across a Redis outage: a token revoked while Redis was down (so the other process never heard
of it) is refused by that process once Redis is back, although it had the token cached for an hour."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Deployment
from tests.faults.conftest import OwnRedis
from tests.faults.helpers import health, wait_until
from tests.realtime.access_helpers import new_account, token_of
from tests.utils import Server, run_server


async def answers(srv: Server, token: str) -> int:
    async with httpx.AsyncClient(base_url=srv.url, timeout=20) as http:
        return (await http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_a_revocation_missed_while_redis_was_down_is_not_trusted_from_the_cache(
        postgres_deployment: Deployment, own_redis: OwnRedis) -> None:
    d = postgres_deployment
    env = d.env(REDIS_URL=own_redis.url, TOKEN_CACHE_SECONDS="3600")
    async with run_server(env) as a, run_server(env) as b:
        who = await new_account(d, "client", org="Acme")
        token = (await token_of(a, who["email"])).json()["token"]
        assert await answers(b, token) == 200  # B has it cached now
        down = asyncio.create_task(own_redis.restart(down_for=4))
        await wait_until(lambda: own_redis.proc is None, 10, "Redis down")  # stopped, not yet started again
        async with httpx.AsyncClient(base_url=a.url, timeout=20) as http:
            r = await http.delete("/api/tokens", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204, r.text  # stored; the announcement cannot reach B now
        await wait_until_healthy(b, healthy=False)
        assert await answers(b, token) == 401  # B's broker is down: it does not trust its cache meanwhile
        await down
        for srv in (a, b):
            await wait_until_healthy(srv)
        assert await answers(b, token) == 401  # and not after either: what it remembered was forgotten


async def wait_until_healthy(srv: Server, healthy: bool = True) -> None:
    for _ in range(300):
        if bool((await health(srv)).get("broker_ok")) is healthy:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the broker's health did not become {healthy}")
