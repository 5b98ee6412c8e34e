"""A connection's chat: frames queue up and are stored a burst per transaction (a group commit), each burst's
commit overlapping the previous one's fan-out. Part of `Channel` (web/channels.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from livesupport import metrics
from livesupport.actions.tickets import ChatRequest
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    LivesupportError,
    RateLimitedError,
    UnavailableError,
)
from livesupport.domain.people import Person
from livesupport.realtime.frames import reply_ok, ticket_id_of
from livesupport.realtime.outbox import Outbox
from livesupport.web.services import Services

log = logging.getLogger("livesupport.ws")

MAX_BATCH = 200  # chat frames stored in one transaction


class ChatBursts:
    """`Channel`'s chat (a mixin: the attributes below are `Channel`'s)."""

    svc: Services
    box: Outbox
    chats: list[tuple[ChatRequest, Any, int]]  # (request, ref, when read: time.monotonic_ns)
    reviewing: dict[int, asyncio.Task[None]]
    writer: asyncio.Task[None] | None

    @property
    def person(self) -> Person:
        raise NotImplementedError

    async def refuse(self, ref: Any, exc: LivesupportError) -> None:
        raise NotImplementedError

    async def reviews_stored(self, ticket_ids: set[int]) -> None:
        raise NotImplementedError

    def queue_chat(self, frame: dict[str, Any], ref: Any) -> None:
        request = self.chat_request(frame)
        self.chats.append((request, ref, time.monotonic_ns()))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self.write_chats())

    def chat_request(self, frame: dict[str, Any]) -> ChatRequest:
        """A chat frame checked as far as it can be without the database, within this person's rate."""
        if "body" not in frame:
            raise BadRequestError("chat needs a body.")
        wait = self.svc.chat_limits.take(self.person.id, time.monotonic())
        if wait:  # per person, over all their connections to this process
            raise RateLimitedError(f"You are sending messages faster than anyone can read them; wait "
                                   f"{max(1, round(wait))} second{'s' if wait >= 1.5 else ''}.", wait)
        topic = frame.get("topic")
        return self.svc.tickets.chat_request(
            self.person, ticket_id_of(topic), frame["body"], frame.get("visibility"), frame.get("base_seq"),
            frame.get("force"), authorized=self.svc.hub.is_joined(self.box, topic),  # type: ignore[arg-type]
            reply_to=frame.get("reply_to"),
        )

    async def write_chats(self) -> None:
        """Store what has queued up in one transaction, then publish it and reply while the next burst is stored:
        a burst's commit overlaps the previous one's fan-out instead of queueing behind it. Bursts are stored,
        published and answered in order, and each reply follows its own event on this socket."""
        announcing: asyncio.Task[None] | None = None
        try:
            while self.chats or announcing is not None:
                if not self.chats and announcing is not None:
                    await announcing  # more may queue meanwhile: the loop looks again
                    announcing = None
                    continue
                batch, self.chats = self.chats[:MAX_BATCH], self.chats[MAX_BATCH:]
                batch = await self.still_allowed(batch)
                if not batch:
                    continue
                if self.reviewing:
                    await self.reviews_stored({r.ticket_id for r, _, _ in batch})
                start = time.monotonic_ns()
                for _, _, read in batch:
                    metrics.stage("queued", read, start)
                stored: list[tuple[int, Any]] = []
                results: list[int | LivesupportError]
                try:
                    results, stored = await self.svc.tickets.store_chats(self.person, [r for r, _, _ in batch])
                except LivesupportError as exc:
                    results = [exc] * len(batch)
                except Exception:
                    log.exception("storing %d chat frames failed", len(batch))
                    results = [UnavailableError("Something went wrong on our side; nothing was changed. "
                                                "Please try again.")] * len(batch)
                if announcing is not None:
                    await announcing  # the previous burst's events go out first
                announcing = asyncio.create_task(self.announce(batch, results, stored))
        except asyncio.CancelledError:
            if announcing is not None:
                announcing.cancel()
            raise

    async def announce(self, batch: list[tuple[ChatRequest, Any, int]], results: list[int | LivesupportError],
                       stored: list[tuple[int, Any]]) -> None:
        """Publish a stored burst, then answer each of its frames."""
        try:
            await self.svc.tickets.announce_chats(self.person, stored)
        except Exception:  # stored all the same: the replies say so, and `since` brings what was not delivered
            log.exception("publishing %d stored chat events failed", len(stored))
        for (_, ref, _), result in zip(batch, results, strict=True):
            if isinstance(result, LivesupportError):
                await self.refuse(ref, result)
            else:
                await self.box.send(reply_ok(ref, seq=result))

    async def still_allowed(self, batch: list[tuple[ChatRequest, Any, int]]) -> list[tuple[ChatRequest, Any, int]]:
        """Access may have changed since these were read: refuse what the person may no longer send (no I/O)."""
        kept = []
        for request, ref, read in batch:
            if request.visibility == "internal" and not self.person.is_staff:
                await self.refuse(ref, ForbiddenError("Only support staff can write internal notes."))
            elif request.authorized and not self.svc.hub.is_joined(self.box, f"ticket:{request.ticket_id}"):
                kept.append((replace(request, authorized=False), ref, read))  # checked against the database instead
            else:
                kept.append((request, ref, read))
        return kept

    async def settle(self) -> None:
        if self.writer is not None and not self.writer.done():
            await asyncio.shield(self.writer)

    async def stop(self) -> None:
        if self.writer is not None and not self.writer.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.writer), 5)  # what was accepted is stored
            except Exception:  # noqa: BLE001
                self.writer.cancel()
