"""The /ws endpoint: authenticate, then read frames and answer them as protocol.md says."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.types import Receive, Send
from starlette.websockets import WebSocket

from livesupport import metrics
from livesupport.actions.accounts import token_hash
from livesupport.actions.tickets import ChatRequest
from livesupport.actions.transfers import Visitor, may_view
from livesupport.domain import tickets as rules
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    LivesupportError,
    RateLimitedError,
    UnavailableError,
    UnknownTypeError,
)
from livesupport.domain.ids import is_id
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person, Role
from livesupport.logs import context_id, new_id
from livesupport.realtime.frames import decode, encode, refusal, reply_ok, ticket_id_of
from livesupport.realtime.outbox import Outbox
from livesupport.web.chat_bursts import ChatBursts
from livesupport.web.security import origin_allowed, session_token
from livesupport.web.services import Services, services

log = logging.getLogger("livesupport.ws")

NOT_AUTHENTICATED, ORIGIN_REFUSED, POLICY = 4401, 4403, 1008
BAD_FRAMES_LIMIT = 20  # per minute, then 1008
ABUSE_LIMIT = 100  # rate-limited frames in a row, then 1008
NOT_HEARD = 2**62  # a topic not yet open has delivered nothing: no remembered snapshot can be used


async def ws_endpoint(ws: WebSocket, receive: Receive, send: Send) -> None:
    """One connection. `receive`/`send` are the raw ASGI callables: the hot path skips middleware wrappers."""
    svc = services(ws)
    if await svc.connecting.shed(ws):  # a reconnect storm queued too much set-up work: 1013, retry after N s
        return
    if "party" in ws.query_params:
        await party_endpoint(ws, receive, send)
        return
    token = ws.query_params.get("token")
    credential = token or session_token(ws)
    person = await svc.connecting.person(credential) if credential else None
    await ws.accept()
    if person is not None and credential:
        person = await svc.connecting.person_now(credential)  # revoked meanwhile, on any process: refused
    if person is None:
        await ws.close(NOT_AUTHENTICATED, "Not authenticated: log in, or connect with ?token=")
        return
    if not token and not origin_allowed(ws, svc.settings.allowed_origins):
        await ws.close(ORIGIN_REFUSED, "This page's origin may not open a session socket.")
        return
    context_id.set(new_id(f"ws{person.id}"))
    box = Outbox(person, svc.settings.outbound_queue, token_hash(credential), send)  # type: ignore[arg-type]
    await serve(ws, receive, box, Channel(svc, box))


async def party_endpoint(ws: WebSocket, receive: Receive, send: Send) -> None:
    """An outside party of a transfer, by their personal link: `?party=<token>&transfer=<id>`, one topic only."""
    svc = services(ws)
    await ws.accept()
    if not origin_allowed(ws, svc.settings.allowed_origins):
        await ws.close(ORIGIN_REFUSED, "This page's origin may not open a session socket.")
        return
    raw_id = ws.query_params.get("transfer", "")
    try:
        transfer_id = parse_id(raw_id)
        if transfer_id is None:
            raise ForbiddenError("Connect with ?transfer=<id> and your link's token.")
        visitor = await svc.transfers.visitor(transfer_id, ws.query_params["party"])
    except LivesupportError as exc:
        await ws.close(NOT_AUTHENTICATED, close_reason(exc.message))
        return
    context_id.set(new_id(f"wsp{visitor.party_id}"))
    guest = Person(id=0, name=visitor.name, role=Role.CLIENT)  # no account: may open this transfer's topic only
    box = Outbox(guest, svc.settings.outbound_queue, f"party:{visitor.party_id}", send)  # type: ignore[arg-type]
    await serve(ws, receive, box, PartyChannel(svc, box, visitor))


def close_reason(text: str, limit: int = 123) -> str:
    """A close frame's reason holds 123 bytes: a longer sentence is cut at a word, and says so."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[:limit - 3].decode(errors="ignore").rsplit(" ", 1)[0]
    return cut + "…"


async def serve(ws: WebSocket, receive: Receive, box: Outbox, channel: Channel) -> None:
    svc = channel.svc
    me = asyncio.current_task()
    assert me is not None
    box.on_close = me.cancel  # wakes the read loop below to close the socket
    svc.hub.register(box)
    metrics.CONNECTIONS.inc()
    try:
        await channel.read(receive)
    except asyncio.CancelledError:
        if box.close_code is None:
            raise  # the server is shutting down
        me.uncancel()
    finally:
        metrics.CONNECTIONS.dec()
        svc.hub.unregister(box)
        await channel.stop()
        await box.stop()
    if box.close_code is None:
        return  # the client hung up
    try:
        # A reader that stopped reading gets the close once it drains what is buffered, or is dropped.
        await asyncio.wait_for(ws.close(box.close_code, box.close_reason), 10)
    except Exception:  # noqa: BLE001 - the peer is gone or not reading; the server drops it
        pass


def frame_type(text: str) -> str:
    """For logs: the frame's type, never its content."""
    try:
        kind = decode(text).get("type")
    except LivesupportError:
        return "malformed"
    return kind if isinstance(kind, str) and kind.isidentifier() and len(kind) < 20 else "unknown"


class Channel(ChatBursts):
    """One connection's conversation: every frame is answered or refused, never fatal."""

    def __init__(self, svc: Services, box: Outbox) -> None:
        self.svc, self.box = svc, box
        self.bad: list[float] = []
        self.rate, self.burst = svc.settings.ws_rate, svc.settings.ws_burst  # frames per second, and a burst
        self.tokens, self.stamp, self.limited = self.burst, time.monotonic(), 0
        self.chats: list[tuple[ChatRequest, Any, int]] = []  # (request, ref, when read: time.monotonic_ns)
        self.reviewed: dict[int, int] = {}  # ticket id -> the seq this connection marked as read
        self.background: set[asyncio.Task[None]] = set()
        self.reviewing: dict[int, asyncio.Task[None]] = {}  # ticket id -> its read mark being stored
        self.writer: asyncio.Task[None] | None = None
        self.handlers = {
            "join": self.join, "leave": self.leave, "typing": self.typing,
            "activity": self.activity, "status": self.status, "ping": self.ping,
            "task": self.task, "assign": self.assign, "invite": self.invite, "pin": self.pin, "seen": self.seen,
            "time_zone": self.time_zone,
        }

    @property
    def person(self) -> Person:
        """Who this socket speaks for now: an access change may swap it (role, tier, organisation)."""
        return self.box.person

    async def read(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.refuse(None, BadRequestError("Send JSON in text frames, not binary ones."))
                continue
            await self.handle(text)

    async def handle(self, text: str) -> None:
        ref: Any = None
        try:
            frame = decode(text)
            ref = frame.get("ref")
            self.throttle()  # after parsing, so that a refused frame's reply carries its ref
            kind = frame.get("type")
            if not isinstance(kind, str):
                raise BadRequestError("Every frame needs a string field 'type'.")
            if kind == "chat" and frame.get("status") is None:
                metrics.FRAMES_IN.labels("chat").inc()
                self.queue_chat(frame, ref)  # stored in a group commit, in order, while we read on
                return
            if kind == "chat":  # a message that also sets the status: one transaction of its own
                metrics.FRAMES_IN.labels("chat").inc()
                request = self.chat_request(frame)
                await self.settle()
                seq, status_seq = await self.svc.tickets.chat_and_status(
                    self.person, request, frame["status"], frame.get("next_update_at"),
                    given="next_update_at" in frame)
                await self.box.send(reply_ok(ref, seq=seq, status_seq=status_seq))
                return
            handler = self.handlers.get(kind)
            metrics.FRAMES_IN.labels(kind if handler else "unknown").inc()
            if handler is None:
                raise UnknownTypeError(f"Unknown frame type {kind[:40]!r}.")
            await self.settle()  # everything sent before this frame is stored first
            await handler(frame, ref)
        except LivesupportError as exc:
            await self.refuse(ref, exc)
        except Exception:
            # Never fatal to the connection: say so, log it, and carry on.
            log.exception("a %s frame failed", frame_type(text))
            await self.refuse(ref, UnavailableError("Something went wrong on our side; nothing was changed. "
                                                    "Please try again."))

    async def refuse(self, ref: Any, exc: LivesupportError) -> None:
        metrics.REFUSALS.labels(exc.code).inc()
        await self.box.send(refusal(ref, exc.code, exc.message))
        if exc.code in ("bad_request", "unknown_type", "too_large"):
            now = time.monotonic()
            self.bad = [t for t in self.bad if t > now - 60] + [now]
            if len(self.bad) > BAD_FRAMES_LIMIT:
                self.box.close(POLICY, "Too many bad frames.")

    def throttle(self) -> None:
        if self.rate <= 0:
            return  # WS_RATE=0: no limit
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            self.limited += 1
            if self.limited > ABUSE_LIMIT:
                self.box.close(POLICY, "Too many frames; slow down.")

            raise RateLimitedError("Too many frames at once; wait a moment.", 1 / self.rate)
        self.tokens -= 1
        self.limited = 0

    def joined_topic(self, frame: dict[str, Any]) -> tuple[str, int]:
        topic = frame.get("topic")
        ticket_id = ticket_id_of(topic)
        if not self.svc.hub.is_joined(self.box, topic):  # type: ignore[arg-type]
            raise ForbiddenError(f"Join {topic} before sending that.")
        return topic, ticket_id  # type: ignore[return-value]

    # -- frame handlers ---------------------------------------------------------------

    async def join(self, frame: dict[str, Any], ref: Any) -> None:
        topic = frame.get("topic")
        if isinstance(topic, str) and not topic.startswith("ticket:"):
            await self.join_feed(topic, ref, want_state=frame.get("state") is not False)
            return
        ticket_id = ticket_id_of(topic)
        since = frame.get("since")
        if since is not None and not is_id(since):
            raise BadRequestError("since must be a whole number: the last seq you saw.")
        name = f"ticket:{ticket_id}"
        tickets, hub = self.svc.tickets, self.svc.hub
        if name not in hub.topics:
            # Open a topic (and its Redis subscription) only for someone allowed to see it.
            await self.svc.connecting.authorize(self.person, ticket_id)
        await hub.attach(self.box, name, ticket_id)
        try:
            # Authorises too; remembered, or read (shared with the joins of this ticket by this person queued with
            # this one). Attached first: whatever this process delivers after `heard` reaches this socket. A
            # snapshot older than `since` is not used either: the client saw more, maybe through another process
            # this one lags behind, and what lies between would reach it twice.
            last = hub.topics[name].last_seq
            heard = NOT_HEARD if last is None else max(last, since or 0)
            state, visible, upto = await self.svc.connecting.snapshot(self.person, ticket_id, heard)
            await self.box.send(encode({"type": "joined", "topic": name, "ref": ref, "seq": visible, "state": state}))
            if since is not None:
                async for text in tickets.replay(self.person, ticket_id, since, upto):
                    await self.box.send(text)
                    metrics.REPLAYED.inc()
            hub.go_live(self.box, name, upto)
        except BaseException:
            hub.detach(self.box, name)
            raise
        self.review(ticket_id, visible)  # opening a ticket marks it reviewed

    async def join_feed(self, topic: str, ref: Any, want_state: bool = True) -> None:
        """`user:<id>` (one's own notices), `queue` and `org:<id>` (live lists), `transfers` and `transfer:<id>`."""
        if topic.startswith("transfer"):
            await self.join_transfer(topic, ref)
            return
        if topic.startswith("user:"):
            if topic != f"user:{self.person.id}":  # compared as text: no number is parsed
                raise ForbiddenError("You cannot open that topic.")
            await self.svc.hub.attach_feed(self.box, topic)
            await self.box.send(encode({"type": "joined", "topic": topic, "ref": ref, "seq": 0, "state": {}}))
            return
        lists = self.svc.lists
        epoch = self.box.access_epoch
        await lists.authorize(self.person, topic)
        await self.svc.hub.attach_feed(self.box, topic)  # listening first: no change between state and live
        try:
            if self.box.access_epoch != epoch:  # access changed while we asked: ask again, as who they are now
                await lists.authorize(self.person, topic)
            if want_state:
                state = await lists.state(self.box, topic)
            else:
                state = {}
                lists.quiet(self.box, topic)
        except BaseException:
            self.svc.hub.detach(self.box, topic)
            raise
        await self.box.send(encode({"type": "joined", "topic": topic, "ref": ref, "seq": 0, "state": state}))

    async def join_transfer(self, topic: str, ref: Any) -> None:
        """Staff: the board (`transfers`) or one transfer (`transfer:<id>`), as they see it."""
        transfers = self.svc.transfers
        epoch = self.box.access_epoch
        if topic == "transfers":
            state: dict[str, Any] = {"rows": await transfers.board(self.person)}  # authorises too
        else:
            kind, _, ident = topic.partition(":")
            transfer_id = parse_id(ident)
            if kind != "transfer" or transfer_id is None:
                raise ForbiddenError("You cannot open that topic.")
            state = await transfers.view(transfers.staff(self.person, transfer_id, acting=False))
        await self.svc.hub.attach_feed(self.box, topic)
        if self.box.access_epoch != epoch and not may_view(self.person):  # access changed meanwhile
            self.svc.hub.detach(self.box, topic)
            raise ForbiddenError("You cannot open that topic.")
        await self.box.send(encode({"type": "joined", "topic": topic, "ref": ref, "seq": 0, "state": state}))

    def review(self, ticket_id: int, seq: int) -> None:
        """Remember in the background how far this person has read; the lists update when it is stored."""
        if seq > self.reviewed.get(ticket_id, 0):
            self.reviewed[ticket_id] = seq
            if self.svc.tickets.reviews.stored(self.person.id, ticket_id, seq):
                return  # a reconnect: stored already
            task = asyncio.create_task(self._store_review(ticket_id, seq))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
            self.reviewing[ticket_id] = task

    async def reviews_stored(self, ticket_ids: set[int]) -> None:
        """Before this person writes on a ticket: their read mark from joining it is stored, so what they write
        counts as read by them (store/tickets.py moves a mark that is up to date, as it stores each event)."""
        for ticket_id in ticket_ids:
            task = self.reviewing.get(ticket_id)
            if task is not None:
                if not task.done():
                    await asyncio.wait([task])
                if self.reviewing.get(ticket_id) is task:
                    del self.reviewing[ticket_id]

    async def _store_review(self, ticket_id: int, seq: int) -> None:
        try:
            await self.svc.tickets.mark_reviewed(self.person, ticket_id, seq)
        except Exception as exc:  # noqa: BLE001 - only the "new to you" marker is late
            log.warning("could not store that ticket %d was reviewed: %s", ticket_id, exc)

    async def leave(self, frame: dict[str, Any], ref: Any) -> None:
        topic = frame.get("topic")
        if not isinstance(topic, str):
            raise BadRequestError("leave needs the topic to leave.")
        self.svc.hub.detach(self.box, topic)

    async def status(self, frame: dict[str, Any], ref: Any) -> None:
        if "status" not in frame:
            raise BadRequestError("status needs a status.")
        ticket_id = ticket_id_of(frame.get("topic"))
        await self.reviews_stored({ticket_id})
        seq = await self.svc.tickets.set_status(
            self.person, ticket_id, frame["status"], frame.get("next_update_at"), given="next_update_at" in frame
        )
        await self.box.send(reply_ok(ref, seq=seq))

    async def typing(self, frame: dict[str, Any], ref: Any) -> None:
        topic, _ = self.joined_topic(frame)
        internal = rules.check_visibility(self.person, frame.get("visibility"), "internal notes") == "internal"
        await self.svc.hub.typing(self.box, topic, internal)

    async def activity(self, frame: dict[str, Any], ref: Any) -> None:
        topic, _ = self.joined_topic(frame)
        self.svc.hub.set_state(self.box, topic, rules.check_activity(self.person, frame.get("state")))

    async def task(self, frame: dict[str, Any], ref: Any) -> None:
        seq, task_id = await self.svc.huddle.task(self.person, ticket_id_of(frame.get("topic")), frame)
        await self.box.send(reply_ok(ref, seq=seq, task_id=task_id))

    async def assign(self, frame: dict[str, Any], ref: Any) -> None:
        if "assignees" not in frame:
            raise BadRequestError("assign needs assignees: the list of engineer ids (it may be empty).")
        seq = await self.svc.huddle.assign(self.person, ticket_id_of(frame.get("topic")), frame["assignees"])
        await self.box.send(reply_ok(ref, seq=seq))

    async def invite(self, frame: dict[str, Any], ref: Any) -> None:
        ticket_id = ticket_id_of(frame.get("topic"))
        seq = await self.svc.huddle.invite(self.person, ticket_id, frame.get("user_id"), frame.get("message"))
        await self.box.send(reply_ok(ref, seq=seq))

    async def pin(self, frame: dict[str, Any], ref: Any) -> None:
        if "seq" not in frame:
            raise BadRequestError("pin needs seq: the internal note to pin, or null to unpin.")
        seq = await self.svc.huddle.pin(self.person, ticket_id_of(frame.get("topic")), frame["seq"])
        await self.box.send(reply_ok(ref, seq=seq))

    async def seen(self, frame: dict[str, Any], ref: Any) -> None:
        topic, ticket_id = self.joined_topic(frame)
        seq = frame.get("seq")
        if not is_id(seq):
            raise BadRequestError("seen needs seq: the latest seq you have read.")
        self.review(ticket_id, seq)  # type: ignore[arg-type]  # is_id checked it

    async def time_zone(self, frame: dict[str, Any], ref: Any) -> None:
        await self.svc.context.record_time_zone(self.person, frame.get("time_zone"))
        if ref is not None:
            await self.box.send(reply_ok(ref))

    async def ping(self, frame: dict[str, Any], ref: Any) -> None:
        await self.box.send(encode({"type": "pong", "ref": ref}))


class PartyChannel(Channel):
    """A transfer's outside party: they may open their transfer's topic, and nothing else."""

    def __init__(self, svc: Services, box: Outbox, visitor: Visitor) -> None:
        super().__init__(svc, box)
        self.visitor = visitor
        self.handlers = {"join": self.join, "leave": self.leave, "ping": self.ping}

    async def join(self, frame: dict[str, Any], ref: Any) -> None:
        topic = frame.get("topic")
        if topic != f"transfer:{self.visitor.transfer_id}":
            raise ForbiddenError("Your link opens your own transfer only.")
        await self.svc.hub.attach_feed(self.box, topic)
        state = await self.svc.transfers.view(self.visitor, history=True)
        await self.box.send(encode({"type": "joined", "topic": topic, "ref": ref, "seq": 0, "state": state}))
