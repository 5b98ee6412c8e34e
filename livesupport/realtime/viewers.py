"""Who is on each ticket topic: this process's view, merged with the others' through the presence store."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from livesupport.realtime.frames import encode
from livesupport.realtime.outgoing import Outgoing
from livesupport.realtime.presence import Member
from livesupport.realtime.topics import PresenceStore, Topic

log = logging.getLogger("livesupport.hub")

PRESENCE_DEBOUNCE = 0.05


class Viewers(Outgoing):
    topics: dict[str, Topic]
    presence: PresenceStore

    if TYPE_CHECKING:
        def changed(self, ticket_id: int) -> None: ...

    async def members_of(self, ticket_id: int) -> list[Member]:
        """Who is on a ticket now, wherever they are connected."""
        topic = self.topics.get(f"ticket:{ticket_id}")
        if topic is not None and topic.members is not None:
            return topic.members
        return await self.presence.get(f"ticket:{ticket_id}", {})

    async def members_of_many(self, ticket_ids: list[int]) -> list[list[Member]]:
        """members_of for many tickets: those this process follows from memory, the rest in one read."""
        out: list[list[Member] | None] = []
        missing: list[str] = []
        for ticket_id in ticket_ids:
            topic = self.topics.get(f"ticket:{ticket_id}")
            members = topic.members if topic is not None else None
            out.append(members)
            if members is None:
                missing.append(f"ticket:{ticket_id}")
        fetched = iter(await self.presence.get_many(missing) if missing else [])
        return [members if members is not None else next(fetched) for members in out]

    def _presence_changed(self, topic: Topic) -> None:
        if topic.presence_timer is None:
            loop = asyncio.get_running_loop()
            topic.presence_timer = loop.call_later(
                PRESENCE_DEBOUNCE, lambda: self._spawn(self._flush_presence(topic))
            )

    def _local_view(self, topic: Topic) -> dict[int, Member]:
        view: dict[int, Member] = {}
        for sub in topic.subs.values():
            if sub.pending is not None:
                continue
            p = sub.person
            seen = view.get(p.id)
            if seen is None or (sub.state == "working" and seen["state"] != "working"):
                view[p.id] = {**p.public(), "state": sub.state}
        return view

    async def _flush_presence(self, topic: Topic, announce: bool = True) -> None:
        topic.presence_timer = None
        local = self._local_view(topic)
        try:
            if local != topic.local_view:
                topic.local_view = local
                await self.presence.put(topic.name, local)
                if announce:
                    self._publish(topic.channel, b"P", b"")
            members = await self.presence.get(topic.name, local)
        except Exception as exc:  # noqa: BLE001 - show at least who is here
            log.warning("presence store unavailable (%s); showing this process's view", exc)
            topic.local_view = None
            members = sorted(local.values(), key=lambda m: m["name"])
        if members != topic.members:
            self.changed(topic.ticket_id)  # who is viewing and working shows in the lists
        if members != topic.members and topic.subs:
            topic.members = members
            text = self._presence_frame(topic, members)
            for box, sub in topic.subs.items():
                if sub.pending is None:
                    box.send_nowait(text)
        else:
            topic.members = members

    @staticmethod
    def _presence_frame(topic: Topic, members: list[Member]) -> str:
        return encode({"type": "presence", "topic": topic.name, "viewers": len(members), "members": members})

    async def sweep_presence(self) -> None:
        """Re-read every topic's presence: drops members of processes that died."""
        for topic in list(self.topics.values()):
            await self._flush_presence(topic, announce=False)
