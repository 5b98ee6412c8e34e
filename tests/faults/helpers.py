"""Steps shared by the fault tests."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import orjson

from tests.utils import Client, Server


@dataclass
class Watcher:
    """A subscriber that records every event seq it receives (and closes, if any)."""

    client: Client
    seqs: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    close_code: int | None = None

    async def run(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.client.ws:
                frame = orjson.loads(raw)
                if frame.get("type") == "event":
                    self.seqs.append(frame["seq"])
                    body = frame["data"].get("body", "")
                    if body.startswith("t="):
                        self.latencies.append(time.time() - float(body[2:].split(" ", 1)[0]))
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else 1006


async def wait_until(cond, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not cond():  # checked at least once, even with no time left
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def health(srv: Server) -> dict:
    async with httpx.AsyncClient() as http:
        return (await http.get(srv.url + "/healthz", timeout=5)).json()


async def metric(srv: Server, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(srv.url + "/metrics", timeout=5)).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def assert_exact(seqs: list[int], expected: list[int], who: str) -> None:
    """All, in order, none twice: the first difference is reported plainly."""
    if seqs == expected:
        return
    dups = len(seqs) - len(set(seqs))
    missing = sorted(set(expected) - set(seqs))
    out_of_order = next((i for i in range(1, len(seqs)) if seqs[i] <= seqs[i - 1]), None)
    raise AssertionError(f"{who}: got {len(seqs)} of {len(expected)}; duplicates {dups}; "
                         f"missing {missing[:10]}...; first out-of-order index {out_of_order}")
