"""The shared presence store on the real Redis: what other processes hold, read for many topics in one go."""

from __future__ import annotations

import pytest

from livesupport.realtime.presence import RedisPresence


def member(uid: int, state: str = "viewing") -> dict[str, object]:
    return {"id": uid, "name": f"Person {uid}", "role": "client", "state": state}


@pytest.mark.parametrize("many", [False, True])
async def test_other_processes_members_are_read_and_the_dead_ones_dropped(redis_url: tuple[str, str],
                                                                           many: bool) -> None:
    url, prefix = redis_url
    prefix += "presence-store:"
    a, b, gone = (RedisPresence(url, prefix, origin, ttl=30) for origin in ("proc-a", "proc-b", "proc-gone"))
    try:
        await a.put("ticket:1", {1: member(1), 2: member(2, "working")})
        await a.put("ticket:2", {3: member(3)})
        await gone.put("ticket:2", {4: member(4)})
        await gone._r.delete(gone._alive_key)  # that process died: its liveness key expired
        topics = ["ticket:1", "ticket:2", "ticket:3"]
        if many:
            got = await b.get_many(topics)
        else:
            got = [await b.get(t, {}) for t in topics]
        assert [[m["id"] for m in view] for view in got] == [[2, 1], [3], []]  # working first; the dead one gone
        assert await b._r.hkeys(f"{prefix}presence:{{ticket:2}}") == [b"proc-a:3"]  # and removed for everyone
        mine = await a.get_many(["ticket:1"])
        assert mine == [[]]  # a process's own members come from its memory, not from Redis
    finally:
        for p in (a, b, gone):
            await p._r.delete(*[f"{prefix}presence:{{ticket:{i}}}" for i in (1, 2, 3)], f"{prefix}proc:proc-a")
            await p._r.aclose()
