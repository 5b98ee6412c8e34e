"""Feeds: topics without a seq (`queue`, `org:<id>`, `user:<id>`, transfers) and who listens to them here.

Personal and organisation notices and transfers travel on a broker channel of their own (`f:<name>`); the
lists' rows are rebuilt from "these tickets changed" notices on one `lists` channel, at most every 200 ms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from livesupport.domain.people import Person
from livesupport.realtime.outbox import Outbox
from livesupport.realtime.outgoing import Outgoing

log = logging.getLogger("livesupport.hub")

LISTS = "lists"  # "these tickets changed": for the live lists and counters of every process
LISTS_DEBOUNCE = 0.2


def _has_channel(feed: str) -> bool:
    """Personal notices (`user:<id>`), an organisation's (`org:<id>`: billing) and transfers (`transfer:<id>`, the
    `transfers` board) have a channel of their own; the lists' rows travel on LISTS."""
    return feed.startswith(("user:", "org:", "transfer"))


class Feeds(Outgoing):
    feeds: dict[str, dict[Outbox, Person]]
    _changed: set[int]
    _changed_timer: asyncio.TimerHandle | None
    on_lists_changed: Callable[[list[int] | None], Awaitable[None]] | None

    async def attach_feed(self, box: Outbox, name: str) -> None:
        """Listen to `queue`, `org:<id>` or `user:<id>` (the caller has authorised it)."""
        subs = self.feeds.get(name)
        if subs is None:
            subs = self.feeds[name] = {}
            if _has_channel(name):  # list rows travel on LISTS; notices to a person or organisation on their own
                await self.broker.subscribe("f:" + name)
        subs[box] = box.person
        box.topics.add(name)

    def _detach_feed(self, box: Outbox, name: str) -> None:
        box.topics.discard(name)
        subs = self.feeds.get(name)
        if subs is None:
            return
        subs.pop(box, None)
        if not subs:
            del self.feeds[name]
            if _has_channel(name):
                self._spawn(self._unsubscribe_feed(name))

    async def _unsubscribe_feed(self, name: str) -> None:
        try:
            await self.broker.unsubscribe("f:" + name)
            if name in self.feeds:  # someone listened again meanwhile
                await self.broker.subscribe("f:" + name)
        except Exception as exc:  # noqa: BLE001
            log.warning("leaving %s: %s", name, exc)

    def notify(self, name: str, text: str) -> None:
        """Send a frame to everyone listening to a personal feed, here and on the other processes."""
        self._deliver_feed(name, text)
        self._publish("f:" + name, b"F", text.encode())

    def _deliver_feed(self, name: str, text: str) -> None:
        for box in self.feeds.get(name, ()):
            box.send_nowait(text)

    def changed(self, ticket_id: int) -> None:
        """A ticket's row in the lists may have changed: tell every process, at most every 200 ms."""
        self._changed.add(ticket_id)
        if self._changed_timer is None:
            self._changed_timer = asyncio.get_running_loop().call_later(LISTS_DEBOUNCE, self._flush_changed)

    def _flush_changed(self) -> None:
        self._changed_timer = None
        ids, self._changed = sorted(self._changed), set()
        self._publish(LISTS, b"X", b",".join(b"%d" % i for i in ids))
        self._lists_changed(ids)

    def _lists_changed(self, ids: list[int] | None) -> None:
        if self.on_lists_changed is not None and any(n == "queue" or n.startswith("org:") for n in self.feeds):
            self._spawn(self.on_lists_changed(ids))
