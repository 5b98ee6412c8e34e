"""The hub: this process's ticket topics, their subscribers and ordered fan-out; feeds (feeds.py), who is
on each ticket (viewers.py) and the link to the other processes (outgoing.py) are its parts.

Every durable event reaches a topic here, from this process (right after its
commit) or from the broker. A topic delivers events strictly in seq order:
an event from the past is a duplicate and dropped; one from the future means
something is missing, and the gap is filled from the database before going on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from livesupport import metrics
from livesupport.domain.people import Person
from livesupport.realtime.access import AccessChange
from livesupport.realtime.brokers.base import Broker
from livesupport.realtime.feeds import LISTS, Feeds
from livesupport.realtime.frames import encode
from livesupport.realtime.outbox import Outbox
from livesupport.realtime.topics import Ev, History, PresenceStore, Sub, Topic
from livesupport.realtime.viewers import Viewers

__all__ = ["Ev", "History", "Hub", "PresenceStore", "new_origin"]

log = logging.getLogger("livesupport.hub")

CONTROL = "ctl"  # the channel every process listens on for revoked sessions and changed access


def new_origin() -> str:
    """A name for this process, unique across machines and restarts."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


class Hub(Feeds, Viewers):
    def __init__(self, broker: Broker, presence: PresenceStore, history: History, origin: str) -> None:
        self.resyncs = 0  # times the broker link came back (announcements may have been missed meanwhile)
        self.broker = broker
        self.presence = presence
        self.history = history
        self.origin = origin
        self._origin_b = self.origin.encode()
        self.topics: dict[str, Topic] = {}
        self.by_credential: dict[str, set[Outbox]] = {}
        # Tickets whose events could not be published, with the newest seq: announced when the link is back.
        self._unsent: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # What goes to the other processes, in order; one task sends it in pipelined batches.
        self._outgoing: deque[tuple[str, bytes, int, int]] = deque()
        self._outgoing_ready = asyncio.Event()
        self._idle = asyncio.Event()  # nothing waits to be sent
        self._idle.set()
        # This process's own events waiting for their local fan-out (one loop turn after Redis has them).
        self._local: deque[tuple[Topic, Ev, int]] = deque()
        self._local_done: asyncio.Future[None] | None = None
        # Topics without a seq (queue, org:<id>, user:<id>) and who listens to them here.
        self.feeds: dict[str, dict[Outbox, Person]] = {}
        # Tickets changed since the last "lists" notice, and who turns notices into list updates.
        self._changed: set[int] = set()
        self._changed_timer: asyncio.TimerHandle | None = None
        self.on_lists_changed: Callable[[list[int] | None], Awaitable[None]] | None = None
        # Who re-checks the sockets an access change touches (the web tier, which knows the rules of each topic).
        self.on_access_changed: Callable[[AccessChange], Awaitable[None]] | None = None
        # Told at once (no await) when a credential ends or access changes, here or on another process:
        # what is remembered about credentials (actions/token_cache.py) is dropped before anything else runs.
        self.credential_listeners: list[Callable[[str], None]] = []
        self.access_listeners: list[Callable[[AccessChange], None]] = []

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(self._on_broker_message, self.resync)
        await self.broker.subscribe(CONTROL)
        await self.broker.subscribe(LISTS)
        self._spawn(self._send_outgoing())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()

    # -- connections and their credentials -----------------------------------------

    def register(self, box: Outbox) -> None:
        self.by_credential.setdefault(box.credential, set()).add(box)

    def unregister(self, box: Outbox) -> None:
        self.detach_all(box)
        boxes = self.by_credential.get(box.credential)
        if boxes is not None:
            boxes.discard(box)
            if not boxes:
                del self.by_credential[box.credential]

    async def revoke(self, credential: str) -> None:
        """A session or token ended: close its sockets here and on every other process."""
        self._close_credential(credential)
        self._publish(CONTROL, b"R", credential.encode())

    def _close_credential(self, credential: str) -> None:
        for listener in self.credential_listeners:
            listener(credential)
        for box in self.by_credential.get(credential, ()):
            box.close(4401, "Your session has ended; log in again.")

    async def access_changed(self, change: AccessChange) -> None:
        """Called by actions after the commit: what these people may see changed; every process re-checks."""
        if change:
            self._access(change)
            self._publish(CONTROL, b"A", change.encode())

    def _access(self, change: AccessChange) -> None:
        for listener in self.access_listeners:
            listener(change)
        if self.on_access_changed is not None:
            self._spawn(self.on_access_changed(change))

    def boxes(self) -> list[Outbox]:
        """Every socket of this process."""
        return [box for boxes in self.by_credential.values() for box in boxes]

    def swap_person(self, box: Outbox, person: Person) -> None:
        """This socket's person changed (role, tier, organisation): the fan-out filters for who they are now."""
        box.person = person
        box.access_epoch += 1
        for name in box.topics:
            topic = self.topics.get(name)
            if topic is not None and (sub := topic.subs.get(box)) is not None:
                sub.person = person
            elif (subs := self.feeds.get(name)) is not None and box in subs:
                subs[box] = person

    # -- joining and leaving -------------------------------------------------------

    async def attach(self, box: Outbox, name: str, ticket_id: int) -> Sub:
        """Register a subscriber whose live events wait in `pending` until `go_live`."""
        topic = self.topics.get(name)
        if topic is None:
            topic = self.topics[name] = Topic(name, ticket_id)
            self._spawn(self._init_topic(topic))
        topic.joining += 1
        try:
            await asyncio.shield(topic.ready)
        finally:
            topic.joining -= 1
        if self.topics.get(name) is not topic:  # it failed to start, or emptied meanwhile
            return await self.attach(box, name, ticket_id)
        old = topic.subs.get(box)
        sub = Sub(box.person, state=old.state if old else "viewing")
        topic.subs[box] = sub
        box.topics.add(name)
        return sub

    def go_live(self, box: Outbox, name: str, upto: int) -> None:
        """Everything up to `upto` was sent by the caller; flush what arrived meanwhile, in order."""
        topic = self.topics[name]
        sub = topic.subs[box]
        sub.cursor = upto
        pending, sub.pending = sub.pending or [], None
        for ev in pending:
            if ev.seq > sub.cursor:
                sub.cursor = ev.seq
                if not ev.internal or sub.person.is_staff:
                    box.send_nowait(ev.text_for(sub.person))
        if topic.members is not None:
            box.send_nowait(self._presence_frame(topic, topic.members))
        self._presence_changed(topic)

    def detach(self, box: Outbox, name: str) -> None:
        if name in self.feeds:
            self._detach_feed(box, name)
            return
        topic = self.topics.get(name)
        box.topics.discard(name)
        if topic is None or topic.subs.pop(box, None) is None:
            return
        self._presence_changed(topic)
        if not topic.subs and not topic.joining:
            self._spawn(self._drop_topic_later(topic))

    def detach_all(self, box: Outbox) -> None:
        for name in list(box.topics):
            self.detach(box, name)

    def set_state(self, box: Outbox, name: str, state: str) -> None:
        sub = self.topics[name].subs[box]
        if sub.state != state:
            sub.state = state
            self._presence_changed(self.topics[name])

    def is_joined(self, box: Outbox, name: str) -> bool:
        topic = self.topics.get(name)
        return topic is not None and box in topic.subs

    async def _init_topic(self, topic: Topic) -> None:
        try:
            await self.broker.subscribe(topic.channel)
            topic.last_seq = await self.history.latest(topic.ticket_id)
        except Exception as exc:
            log.exception("could not open topic %s", topic.name)
            if self.topics.get(topic.name) is topic:
                del self.topics[topic.name]
            topic.ready.set_exception(exc)
            return
        topic.ready.set_result(None)
        self._drain_held(topic)

    async def _drop_topic_later(self, topic: Topic) -> None:
        # Linger a moment: a reconnecting tab would otherwise resubscribe and re-read at once.
        await asyncio.sleep(1.0)
        if topic.subs or topic.joining or self.topics.get(topic.name) is not topic:
            return
        del self.topics[topic.name]
        if topic.presence_timer:
            topic.presence_timer.cancel()
        try:
            await self.broker.unsubscribe(topic.channel)
            if (reopened := self.topics.get(topic.name)) is not None:
                # Someone joined while we unsubscribed: make sure the new topic hears, and missed, nothing.
                await self.broker.subscribe(topic.channel)
                self._refetch(reopened)
                return
            await self.presence.put(topic.name, {})
            self._publish(topic.channel, b"P", b"")
            if (reopened := self.topics.get(topic.name)) is not None:
                reopened.local_view = None  # rewrite what the clearing may have removed
                self._presence_changed(reopened)
        except Exception as exc:  # noqa: BLE001
            log.warning("leaving %s: %s", topic.name, exc)

    # -- durable events ------------------------------------------------------------

    async def publish_event(self, ticket_id: int, ev: Ev) -> None:
        """Called by actions after the commit: hand it to the other processes, deliver it here, then return.

        The other processes' copy is queued first, and this process's sockets are written one loop turn later
        (`_fan_out_local`), after the sender task has written the copy to Redis: the other processes fan out
        while this one does, instead of after it. Returns once this process's sockets have the event, so a
        `reply` still follows its event on the author's socket.
        """
        metrics.EVENTS_STORED.inc()
        start = time.monotonic_ns()
        ev = Ev(ev.seq, ev.internal, ev.text, time.time(), ev.client_text)
        name = f"ticket:{ticket_id}"
        channel = "t:" + name
        if ev.client_text is None:
            body = b"%d|%s|%.6f|" % (ev.seq, b"i" if ev.internal else b"p", ev.sent) + ev.text.encode()
        else:  # both versions: the staff one's length first
            staff_b = ev.text.encode()
            body = b"%d|r|%.6f|%d|" % (ev.seq, ev.sent, len(staff_b)) + staff_b + ev.client_text.encode()
        self._publish(channel, b"E", body, ev.seq)
        self.changed(ticket_id)
        topic = self.topics.get(name)
        if topic is None:
            return
        self._local.append((topic, ev, start))
        done = self._local_done
        if done is None:
            loop = asyncio.get_running_loop()
            done = self._local_done = loop.create_future()
            loop.call_soon(self._fan_out_local)  # after the sender task's turn, which set() above scheduled
        await asyncio.shield(done)

    def _fan_out_local(self) -> None:
        """This process's own events, in the order they were published."""
        local, done = self._local, self._local_done
        self._local_done = None
        try:
            while local:
                topic, ev, start = local.popleft()
                if self._offer(topic, ev):
                    now = time.monotonic_ns()
                    metrics.stage("local", start, now)
                    metrics.stage("delivered", start, now)
        finally:
            if done is not None and not done.done():
                done.set_result(None)

    def _offer(self, topic: Topic, ev: Ev) -> bool:
        """Deliver `ev` in seq order; True when it was written to the sockets now (not held or a duplicate)."""
        last = topic.last_seq
        if last is None or topic.filling:
            topic.held[ev.seq] = ev
            return False
        if ev.seq <= last:
            return False  # already delivered: a duplicate from the broker or a replay
        if ev.seq == last + 1:
            self._fan_out(topic, ev)
            topic.last_seq = ev.seq
            if topic.held:
                self._drain_held(topic)
            return True
        topic.held[ev.seq] = ev
        topic.filling = True
        self._spawn(self._fill_gap(topic))
        return False

    def _drain_held(self, topic: Topic) -> None:
        held, last = topic.held, topic.last_seq
        assert last is not None
        for seq in [s for s in held if s <= last]:
            del held[seq]
        while (ev := held.pop(last + 1, None)) is not None:
            self._fan_out(topic, ev)
            last = ev.seq
        topic.last_seq = last
        if held:  # still a gap: fetch it
            topic.filling = True
            self._spawn(self._fill_gap(topic))

    async def _fill_gap(self, topic: Topic) -> None:
        """Fetch from the database what lies between the last delivered seq and what is held (or everything newer)."""
        delay = 0.05
        while True:
            topic.refill = False
            try:
                upto = max(topic.held) if topic.held else None
                assert topic.last_seq is not None
                missing = await self.history.fetch(topic.ticket_id, topic.last_seq, upto)
                metrics.GAP_FILLS.inc()
            except Exception as exc:  # noqa: BLE001 - the database may be briefly away; keep order, retry
                log.warning("filling a gap on %s failed (%s); retrying", topic.name, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            for ev in missing:
                if ev.seq == topic.last_seq + 1:
                    self._fan_out(topic, ev)
                    topic.last_seq = ev.seq
                    metrics.GAP_EVENTS.inc()
            if not topic.refill:
                break
        topic.filling = False
        self._drain_held(topic)

    def _fan_out(self, topic: Topic, ev: Ev) -> None:
        text, seq, internal, client_text = ev.text, ev.seq, ev.internal, ev.client_text
        sent = 0
        for box, sub in topic.subs.items():
            if internal and not sub.person.is_staff:
                continue
            if sub.pending is not None:
                sub.pending.append(ev)
            elif seq > sub.cursor:
                sub.cursor = seq
                box.send_nowait(text if client_text is None or sub.person.is_staff else client_text)
                sent += 1
        metrics.FANOUT_EVENTS.inc()
        metrics.FANOUT_FRAMES.inc(sent)

    async def resync(self) -> None:
        """After the broker link was down: fetch what may have been missed, announce what others missed."""
        self.resyncs += 1  # what this process remembers of others' announcements may be stale (token cache)
        for topic in list(self.topics.values()):
            self._refetch(topic)
            topic.local_view = None
            self._presence_changed(topic)
        self._lists_changed(None)  # rows and counters may have missed changes: rebuild them
        unsent, self._unsent = self._unsent, {}
        for channel, seq in unsent.items():
            # Others may have missed these events: tell them how far the ticket has got.
            self._publish(channel, b"H", b"%d|" % seq, seq)

    def _refetch(self, topic: Topic) -> None:
        """Fetch everything newer than what was delivered (queued behind a fetch already running)."""
        if topic.filling:
            topic.refill = True
        elif topic.last_seq is not None:
            topic.filling = True
            self._spawn(self._fill_gap(topic))

    # -- typing --------------------------------------------------------------------

    async def typing(self, box: Outbox, name: str, internal: bool) -> None:
        person = box.person
        frame: dict[str, Any] = {"type": "typing", "topic": name, "user": {"id": person.id, "name": person.name}}
        if internal:
            frame["visibility"] = "internal"
        text = encode(frame)
        topic = self.topics.get(name)
        if topic is not None:
            self._deliver_typing(topic, person.id, internal, text)
        self._publish("t:" + name, b"T", b"%d|%s|" % (person.id, b"i" if internal else b"p") + text.encode())

    @staticmethod
    def _deliver_typing(topic: Topic, user_id: int, internal: bool, text: str) -> None:
        for box, sub in topic.subs.items():
            if sub.pending is None and sub.person.id != user_id and (not internal or sub.person.is_staff):
                box.send_nowait(text)

    # -- the broker ----------------------------------------------------------------

    def _on_broker_message(self, channel: str, data: bytes) -> None:
        kind, origin, rest = data.split(b"|", 2)
        if origin == self._origin_b:
            return
        if channel == CONTROL:
            if kind == b"R":
                self._close_credential(rest.decode())
            elif kind == b"A":
                self._access(AccessChange.decode(rest))
            return
        if channel == LISTS:
            self._lists_changed([int(i) for i in rest.split(b",") if i])
            return
        if channel.startswith("f:"):
            self._deliver_feed(channel[2:], rest.decode())
            return
        topic = self.topics.get(channel[2:])
        if topic is None:
            return
        if kind == b"E":
            seq, flag, sent, text = rest.split(b"|", 3)
            if flag == b"r":
                size, both = text.split(b"|", 1)
                cut = int(size)
                ev = Ev(int(seq), False, both[:cut].decode(), float(sent), both[cut:].decode())
            else:
                ev = Ev(int(seq), flag == b"i", text.decode(), float(sent))
            metrics.stage_seconds("received", time.time() - ev.sent)
            if self._offer(topic, ev):
                took = time.time() - ev.sent  # the commit was stamped on another process: wall clocks
                metrics.stage_seconds("remote", took)
                metrics.stage_seconds("delivered", took)
        elif kind == b"T":
            uid, flag, text = rest.split(b"|", 2)
            self._deliver_typing(topic, int(uid), flag == b"i", text.decode())
        elif kind == b"P":
            self._presence_changed(topic)
        elif kind == b"H":
            newest = int(rest.split(b"|", 1)[0])
            if topic.last_seq is not None and newest > topic.last_seq:
                self._refetch(topic)

    def health(self) -> dict[str, Any]:
        return {"broker": self.broker.status, "broker_ok": self.broker.healthy, "topics": len(self.topics)}

