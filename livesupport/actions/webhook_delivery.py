"""Webhook delivery, a worker job: ticket events become deliveries, deliveries are POSTed, signed, retried.

Each run (1) reads the ticket events stored after its cursor and, for every enabled endpoint that asked for
them and may see them, keeps a delivery row with the body it will send (the chat path writes nothing extra);
(2) sends what is due. Per endpoint, one ticket's deliveries go in seq order: a delivery that keeps failing
holds back that ticket's later ones for that endpoint (other tickets go on), until it succeeds or is given
up. Each try is claimed first (as the Mailer does), so two workers never send one delivery at once. Sends
run concurrently, a bounded number at a time (and fewer to any one endpoint), so a slow receiver does not
hold up the others; a run starts no new try after RUN_BUDGET.

A desk-wide endpoint (no organisation) gets every ticket's events, internal ones too when it asked, marked
with their visibility; an organisation's endpoint gets only its own tickets' public events, as its clients
see them. An address is resolved at send time and we connect to the address we checked (no DNS rebinding
to a private network), follow no redirect and keep only the start of what the receiver answers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from cryptography.fernet import Fernet
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from livesupport.actions.mail import Mailer
from livesupport.clock import Clock, iso
from livesupport.domain import webhooks as rules
from livesupport.store import notifications as cursors
from livesupport.store.database import Database, upsert_insert
from livesupport.store.models import (
    Organisation,
    Ticket,
    TicketEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from livesupport.store.tickets import event_frame

log = logging.getLogger("livesupport.webhooks")

CURSOR = "webhooks"
KINDS = ("chat", "status", "assignment")  # the ticket events some webhook event is made of
BATCH = 1_000  # ticket events read per fan-out transaction
MAX_BATCHES = 10  # per run; a backlog is caught up over the next runs
SETTLE = timedelta(seconds=60)  # an event younger than this may sit behind an uncommitted one: read it again
HEADS = 200  # (endpoint, ticket) queues started per run
CHAIN = 50  # deliveries one queue sends in a row in one run
PER_ENDPOINT = 4  # tries in flight to one endpoint at once: a slow one cannot take every slot
KEEP = timedelta(days=30)  # finished deliveries are kept (the log) this long
RUN_BUDGET = 60.0  # seconds: no new try starts later in a run (what is left goes next run)
CLAIM = timedelta(minutes=2)  # a try that never reported back (a crashed worker) is retried after this
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 15.0  # seconds for a whole try, however slowly the receiver answers
READ_AT_MOST = 1024  # bytes of the answer read (an excerpt is kept)

# (host, port) -> the addresses it resolves to; replaceable in tests.
Resolver = Callable[[str, int], Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one try got: the HTTP status (None when no answer came), the error in words, the answer's start."""

    status: int | None
    error: str | None
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return rules.succeeded(self.status)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class WebhookDeliveries:
    def __init__(self, db: Database, clock: Clock, mailer: Mailer, cipher: Fernet, *, allow_local: bool,
                 base_url: str | None, concurrency: int = 8, resolver: Resolver = system_resolver) -> None:
        self.db, self.clock, self.mailer, self.cipher = db, clock, mailer, cipher
        self.allow_local, self.base = allow_local, base_url or ""
        self.concurrency, self.resolver = concurrency, resolver

    async def run(self, now: datetime | None = None) -> str:
        now = now or self.clock.now()
        made = await self.fan_out(now)
        sent, failed = await self.deliver_due(now)
        async with self.db.write() as s:  # the log keeps KEEP; what still waits is never dropped
            await s.execute(delete(WebhookDelivery).where(WebhookDelivery.state != "pending",
                                                          WebhookDelivery.created_at < now - KEEP))
        return f"webhook deliveries prepared {made}, delivered {sent}, failed tries {failed}"

    # -- 1. events to deliveries -------------------------------------------------------------

    async def fan_out(self, now: datetime) -> int:
        """Deliveries for the events after the cursor. The cursor passes only settled events; the younger ones
        are read again next run (the unique key keeps one delivery each), and this run reads on past them."""
        total, position, settling = 0, None, False
        for _ in range(MAX_BATCHES):
            made, position, settling, caught_up = await self._fan_out_batch(now, position, settling)
            total += made
            if caught_up:
                break
        return total

    async def _fan_out_batch(self, now: datetime, position: int | None,
                             settling: bool) -> tuple[int, int, bool, bool]:
        async with self.db.write() as s:
            if position is None:
                cursor = await cursors.job_cursor(s, CURSOR)
                position = cursor.position if cursor else 0
            endpoints = list((await s.execute(select(WebhookEndpoint).where(
                WebhookEndpoint.disabled_at.is_(None)))).scalars())
            rows = (await s.execute(
                select(TicketEvent, Ticket, Organisation).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .join(Organisation, Organisation.id == Ticket.org_id)
                .where(TicketEvent.id > position, TicketEvent.kind.in_(KINDS))
                .order_by(TicketEvent.id).limit(BATCH))).all()
            made = []
            for ev, ticket, org in rows:
                name = rules.event_name(ev.kind, ev.seq, ev.data)
                for ep in endpoints:
                    if name is not None and self._wants(ep, name, ev, ticket):
                        made.append(self._delivery(ep, name, ev, ticket, org, now))
            if made:
                await s.execute(upsert_insert(s, WebhookDelivery).values(made).on_conflict_do_nothing())
            settled = None
            for ev, _, _ in rows:  # a younger event may sit behind a transaction not yet committed
                if settling or ev.at > now - SETTLE:
                    settling = True
                    break
                settled = ev.id
            if settled is not None:
                await cursors.move_job_cursor(s, CURSOR, position=settled)
        last = rows[-1][0].id if rows else position
        return len(made), last, settling, len(rows) < BATCH

    @staticmethod
    def _wants(ep: WebhookEndpoint, name: str, ev: TicketEvent, ticket: Ticket) -> bool:
        if ev.id <= ep.after_event_id or name not in ep.events:
            return False
        if ep.org_id is None:  # the desk's: every ticket; internal events only when asked for
            return ev.visibility == "public" or ep.internal
        return ep.org_id == ticket.org_id and ev.visibility == "public"

    def _delivery(self, ep: WebhookEndpoint, name: str, ev: TicketEvent, ticket: Ticket, org: Organisation,
                  now: datetime) -> dict[str, Any]:
        staff = ep.org_id is None
        uid = new_delivery_id()
        shown = {"id": ticket.id, "subject": ticket.subject, "status": ticket.status, "priority": ticket.priority,
                 "org": {"id": org.id, "name": org.name}, "url": f"{self.base}/tickets/{ticket.id}",
                 "created_at": iso(ticket.created_at)}
        body = rules.payload(uid, name, iso(ev.at), shown, event_frame(ev, staff=staff), ev.visibility)
        return {"uid": uid, "endpoint_id": ep.id, "event_id": ev.id, "ticket_id": ev.ticket_id, "seq": ev.seq,
                "event": name, "body": orjson.dumps(body).decode(), "state": "pending", "attempts": 0,
                "created_at": now}

    # -- 2. sending what is due --------------------------------------------------------------

    async def deliver_due(self, now: datetime) -> tuple[int, int]:
        """Start each (endpoint, ticket) queue whose first undelivered delivery is due; returns (sent, failed)."""
        earlier = aliased(WebhookDelivery)
        async with self.db.read() as s:
            heads = list((await s.execute(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.state == "pending", WebhookEndpoint.disabled_at.is_(None),
                       or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
                       ~exists().where(and_(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                            earlier.ticket_id == WebhookDelivery.ticket_id,
                                            earlier.state == "pending", earlier.seq < WebhookDelivery.seq)))
                .order_by(WebhookDelivery.id).limit(HEADS))).all())
        if not heads:
            return 0, 0
        gates = _Gates(self.concurrency, asyncio.get_running_loop().time() + RUN_BUDGET)
        async with httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT, trust_env=False) as client:
            counts = await asyncio.gather(*(self._queue(client, gates, d, ep, now) for d, ep in heads))
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    async def _queue(self, client: httpx.AsyncClient, gates: _Gates, head: WebhookDelivery,
                     ep: WebhookEndpoint, now: datetime) -> tuple[int, int]:
        """One endpoint's deliveries for one ticket, in seq order, until one fails or none is due."""
        sent = failed = 0
        delivery: WebhookDelivery | None = head
        for _ in range(CHAIN):
            if delivery is None:
                break
            async with gates.endpoint(ep.id), gates.all:
                if gates.over() or not await self._claim(delivery, now):
                    break
                outcome = await self.attempt(client, ep, delivery, now)
            await self.record(delivery.id, outcome, now)
            if not outcome.ok:
                failed += 1
                break
            sent += 1
            async with self.db.read() as s:
                delivery = (await s.execute(select(WebhookDelivery).where(
                    WebhookDelivery.endpoint_id == ep.id, WebhookDelivery.ticket_id == delivery.ticket_id,
                    WebhookDelivery.state == "pending", WebhookDelivery.seq > delivery.seq,
                    or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
                ).order_by(WebhookDelivery.seq).limit(1))).scalar_one_or_none()
        return sent, failed

    async def _claim(self, d: WebhookDelivery, now: datetime) -> bool:
        """Count this try and hold the delivery for it; False when another worker has it, or the endpoint was
        disabled meanwhile."""
        enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.disabled_at.is_(None))
        async with self.db.write() as s:
            done = await s.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == d.id, WebhookDelivery.attempts == d.attempts,
                WebhookDelivery.state == "pending", WebhookDelivery.endpoint_id.in_(enabled),
            ).values(attempts=d.attempts + 1, next_attempt_at=now + CLAIM))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def attempt(self, client: httpx.AsyncClient, ep: WebhookEndpoint, d: WebhookDelivery,
                      now: datetime) -> Outcome:
        """POST the delivery's body, signed; what came back. Never raises for the receiver's faults."""
        try:
            return await asyncio.wait_for(self._post(client, ep, d, now), DEADLINE)
        except TimeoutError:
            return Outcome(None, f"no complete answer within {DEADLINE:.0f} s", None)
        except rules.WebhookUrlError as exc:
            return Outcome(None, exc.message, None)
        except httpx.TimeoutException:
            return Outcome(None, "timed out waiting for the receiver", None)
        except httpx.HTTPError as exc:
            return Outcome(None, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:300], None)
        except OSError as exc:
            return Outcome(None, f"could not connect: {exc}"[:300], None)

    async def _post(self, client: httpx.AsyncClient, ep: WebhookEndpoint, d: WebhookDelivery,
                    now: datetime) -> Outcome:
        target, host_header, sni = await self._pinned(ep.url)
        secret = self.cipher.decrypt(ep.secret_encrypted.encode()).decode()
        body = d.body.encode()
        stamp = int(now.timestamp())
        headers = {
            "Host": host_header, "Content-Type": "application/json", "User-Agent": "livesupport-webhooks/1",
            rules.TIMESTAMP_HEADER: str(stamp), rules.SIGNATURE_HEADER: rules.signature_header(secret, stamp, body),
            rules.DELIVERY_HEADER: d.uid, rules.EVENT_HEADER: d.event,
        }
        extensions = {"sni_hostname": sni} if sni else {}
        async with client.stream("POST", target, content=body, headers=headers, extensions=extensions) as resp:
            start = b""
            async for part in resp.aiter_bytes():
                start += part
                if len(start) >= READ_AT_MOST:
                    break
        text = rules.excerpt(start[:READ_AT_MOST].decode("utf-8", "replace"))
        error = None if rules.succeeded(resp.status_code) else f"the receiver answered {resp.status_code}"
        if 300 <= resp.status_code < 400:
            error = f"the receiver answered {resp.status_code} (a redirect, which we do not follow)"
        return Outcome(resp.status_code, error, text or None)

    async def _pinned(self, url: str) -> tuple[str, str, str | None]:
        """The URL to connect to, with the checked IP in place of the host; the Host header; the TLS name."""
        rules.check_url(url, self.allow_local)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await self.resolver(host, port)
        chosen = next((a for a in addresses if rules.address_allowed(a, self.allow_local)), None)
        if chosen is None:
            raise rules.WebhookUrlError(f"{host} resolves to no public address (only private, loopback or "
                                        "reserved ones); nothing was sent.")
        shown_ip = f"[{chosen}]" if ":" in chosen else chosen
        target = urlunsplit((parts.scheme, f"{shown_ip}:{port}", parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        return target, host_header, host if parts.scheme == "https" else None

    async def record(self, delivery_id: int, outcome: Outcome, now: datetime) -> None:
        """Keep what the try got; back off or give up; count the endpoint's failures, disabling it at the limit."""
        async with self.db.write() as s:
            d = await s.get(WebhookDelivery, delivery_id)
            if d is None:
                return  # the endpoint was deleted meanwhile
            d.last_attempt_at, d.last_status = now, outcome.status
            d.last_error, d.response_excerpt = outcome.error, outcome.excerpt
            ep = await s.get(WebhookEndpoint, d.endpoint_id)
            if outcome.ok:
                d.state, d.delivered_at, d.next_attempt_at = "delivered", now, None
                if ep is not None:
                    ep.failures_in_row, ep.failing_since = 0, None
                return
            if d.event == rules.PING or d.attempts >= rules.MAX_TRIES:
                d.state, d.next_attempt_at = "failed", None
            else:
                d.next_attempt_at = now + rules.retry_delay(d.attempts)
            if ep is None or d.event == rules.PING:
                return
            # One UPDATE, not read-and-write: concurrent tries of other tickets count their failures too.
            count, since = (await s.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == ep.id).values(
                failures_in_row=WebhookEndpoint.failures_in_row + 1,
                failing_since=func.coalesce(WebhookEndpoint.failing_since, now),
            ).returning(WebhookEndpoint.failures_in_row, WebhookEndpoint.failing_since))).one()
            if not rules.should_disable(count, since, now):
                return
            reason = (f"{count} failed tries in a row since {since:%Y-%m-%d %H:%M} UTC; "
                      f"last: {outcome.error}")[:200]
            done = await s.execute(update(WebhookEndpoint).where(
                WebhookEndpoint.id == ep.id, WebhookEndpoint.disabled_at.is_(None),
            ).values(disabled_at=now, disabled_reason=reason))
            if done.rowcount:  # type: ignore[attr-defined]  # this try disabled it (not a concurrent one)
                await s.refresh(ep)
                await self._tell_owner(s, ep)

    async def _tell_owner(self, s: Any, ep: WebhookEndpoint) -> None:
        owner = await s.get(User, ep.owner_id) if ep.owner_id is not None else None
        if owner is None or owner.disabled_at is not None:
            log.warning("webhook endpoint %d was disabled and has no owner to tell", ep.id)
            return
        page = f"{self.base}{'/admin/webhooks' if ep.org_id is None else '/account/webhooks'}"
        await self.mailer.queue(s, owner.email, "Webhook endpoint disabled after repeated failures", (
            f"Hello {owner.name},\n\nWe stopped sending ticket events to your webhook endpoint\n\n  {ep.url}\n\n"
            f"because it kept failing: {ep.disabled_reason}.\n\nEvents that happen while it is disabled are not "
            f"sent to it. Once the receiver works again, enable it on {page} (\"Enable\"); deliveries still "
            "waiting are then retried in order.\n"))
        log.warning("webhook endpoint %d disabled: %s", ep.id, ep.disabled_reason)


class _Gates:
    """How many tries run at once (in all, and per endpoint), and until when a run starts new ones."""

    def __init__(self, concurrency: int, until: float) -> None:
        self.all, self.until = asyncio.Semaphore(concurrency), until
        self._endpoints: dict[int, asyncio.Semaphore] = {}

    def endpoint(self, endpoint_id: int) -> asyncio.Semaphore:
        return self._endpoints.setdefault(endpoint_id, asyncio.Semaphore(PER_ENDPOINT))

    def over(self) -> bool:
        return asyncio.get_running_loop().time() > self.until


def new_delivery_id() -> str:
    return f"whd_{uuid.uuid4().hex}"
