""""This person has read ticket T up to seq", stored in group commits: every join marks its ticket reviewed, and a
storm of joins after a deploy writes once per burst instead of once per socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from livesupport.clock import Clock
from livesupport.realtime.hub import Hub
from livesupport.store import huddle as huddle_store

STORED_SIZE = 100_000


class ReviewMarks:
    def __init__(self, writing: Callable[[], AbstractAsyncContextManager[Any]], hub: Hub, clock: Clock) -> None:
        self.writing, self.hub, self.clock = writing, hub, clock
        self._queued: dict[tuple[int, int], int] = {}  # (user id, ticket id) -> the highest seq read
        self._done: asyncio.Future[None] | None = None  # settles when what is queued now is stored
        self._writer: asyncio.Task[None] | None = None
        # Marks this process has stored (user id, ticket id) -> seq: a mark never moves back, so a join that reads
        # no further than what is stored writes nothing (a reconnect storm re-reads the same seq thousands of times).
        self._stored: dict[tuple[int, int], int] = {}

    async def mark(self, user_id: int, ticket_id: int, seq: int) -> None:
        """Queue the mark and wait until the transaction holding it commits (or fails: the error is raised)."""
        if self.stored(user_id, ticket_id, seq):
            return  # committed already, as far or further
        key = (user_id, ticket_id)
        if seq > self._queued.get(key, 0):
            self._queued[key] = seq
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        done = self._done
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(done)

    async def _write(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, {}
            done, self._done = self._done, None
            assert done is not None
            try:
                async with self.writing() as s:
                    now = self.clock.now()
                    for (user_id, ticket_id), seq in batch.items():
                        await huddle_store.mark_reviewed(s, user_id, ticket_id, seq, now)
            except Exception as exc:  # noqa: BLE001 - each waiting caller hears it
                done.set_exception(exc)
                done.exception()
                continue
            done.set_result(None)
            self._remember(batch)
            for ticket_id in {t for _, t in batch}:
                self.hub.changed(ticket_id)

    def stored(self, user_id: int, ticket_id: int, seq: int) -> bool:
        """This process has stored this mark, or one further (no I/O)."""
        return seq <= self._stored.get((user_id, ticket_id), 0)

    def _remember(self, batch: dict[tuple[int, int], int]) -> None:
        stored = self._stored
        for key, seq in batch.items():
            if seq > stored.get(key, 0):
                stored.pop(key, None)
                if len(stored) >= STORED_SIZE:  # the oldest entry makes room
                    del stored[next(iter(stored))]
                stored[key] = seq
