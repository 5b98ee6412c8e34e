"""Flood limits on the socket: per connection (WS_RATE) and per person over all their connections (CHAT_RATE)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import all_events, connected, open_ticket
from tests.utils import Server, run_server


@pytest.fixture(scope="module")
async def strict(sqlite_deployment: Deployment) -> AsyncIterator[Server]:
    # Refills so slow (one message a 100 s, one frame a 20 s) that however slowly a busy machine runs these
    # tests, only the bursts get through: the counts below are exact.
    env = sqlite_deployment.env(CHAT_RATE="0.01", CHAT_BURST="3", WS_RATE="0.05", WS_BURST="8")
    async with run_server(env) as srv:
        srv.deployment = sqlite_deployment  # type: ignore[attr-defined]
        yield srv


async def test_one_person_cannot_flood_a_ticket_from_many_tabs(strict: Server) -> None:
    d: Deployment = strict.deployment  # type: ignore[attr-defined]
    tid = await open_ticket(strict, d)
    topic = f"ticket:{tid}"
    async with connected(strict, d, "client") as tab1, connected(strict, d, "client") as tab2, \
            connected(strict, d, "engineer") as eng:
        replies = []
        for i in range(3):
            for tab in (tab1, tab2):
                replies.append(await tab.request({"type": "chat", "topic": topic, "body": f"hello {i}"}))
        accepted = [r for r in replies if r["ok"]]
        limited = [r for r in replies if not r["ok"]]
        assert len(accepted) == 3  # the burst, shared by both tabs
        assert len(limited) == 3 and all(r["error"]["code"] == "rate_limited" for r in limited)
        assert "wait" in limited[0]["error"]["message"]
        # Someone else is not held back by Alice's flood.
        assert (await eng.request({"type": "chat", "topic": topic, "body": "Still here"}))["ok"]
    bodies = [e["data"]["body"] for e in await all_events(strict, d, "engineer", tid)]
    assert len(bodies) == 1 + 3 + 1  # the opening message, the burst, the engineer: nothing refused was stored


async def test_one_connection_cannot_flood_the_server(strict: Server) -> None:
    d: Deployment = strict.deployment  # type: ignore[attr-defined]
    async with connected(strict, d, "engineer") as eng:
        for i in range(12):
            await eng.send({"type": "ping", "ref": f"p{i}"})
        answers = [await eng.expect(ref=f"p{i}") for i in range(12)]
    assert [a["type"] for a in answers] == ["pong"] * 8 + ["reply"] * 4  # the burst, then refusals
    assert all(a["error"]["code"] == "rate_limited" for a in answers[8:])
