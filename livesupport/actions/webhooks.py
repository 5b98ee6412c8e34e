"""Webhook endpoints, managed: register, rotate the secret, disable, enable, delete, read the log, send a test.

Who: a domain administrator manages their own organisation's endpoints; a staff admin manages the desk's.
Nobody else, and neither sees the other's: an endpoint outside someone's scope is "not found", like one that
does not exist. The signing secret is shown once (on creation and on rotation) and kept encrypted, since
every delivery is signed with it.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select, update

from livesupport.actions.throttle import Throttle
from livesupport.actions.webhook_delivery import CLAIM, TIMEOUT, WebhookDeliveries, new_delivery_id
from livesupport.clock import Clock, iso
from livesupport.domain import webhooks as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from livesupport.domain.numbers import require_id
from livesupport.domain.people import Person, Role
from livesupport.domain.throttle import Limit
from livesupport.store.database import Database
from livesupport.store.models import TicketEvent, WebhookDelivery, WebhookEndpoint

MAX_ENDPOINTS = 10  # per organisation, and for the desk
LOG_SIZE = 50
TEST_SENDS = Limit("webhook-test", 10, 10 * 60)  # "Send test event" presses per endpoint
GONE = "There is no such webhook endpoint, or it is not yours to manage."


def secret_cipher(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"livesupport webhook secrets").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose endpoints someone manages: an organisation's, or (org_id None) the desk's."""

    org_id: int | None

    @staticmethod
    def of(person: Person) -> Scope:
        if person.role is Role.ADMIN:
            return Scope(None)
        if person.role is Role.DOMAIN_ADMIN and person.org_id is not None:
            return Scope(person.org_id)
        raise ForbiddenError("Only an organisation's domain administrator, or a desk admin, manages webhooks.")

    def holds(self, ep: WebhookEndpoint) -> bool:
        return ep.org_id == self.org_id


def endpoint_view(ep: WebhookEndpoint) -> dict[str, Any]:
    return {"id": ep.id, "url": ep.url, "description": ep.description, "events": list(ep.events),
            "internal": ep.internal, "scope": "desk" if ep.org_id is None else "organisation",
            "org_id": ep.org_id, "created_at": iso(ep.created_at), "enabled": ep.disabled_at is None,
            "disabled_at": iso(ep.disabled_at), "disabled_reason": ep.disabled_reason,
            "failures_in_row": ep.failures_in_row}


def delivery_view(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.uid, "event": d.event, "ticket_id": d.ticket_id, "seq": d.seq, "state": d.state,
            "attempts": d.attempts, "status": d.last_status, "error": d.last_error, "response": d.response_excerpt,
            "created_at": iso(d.created_at), "last_attempt_at": iso(d.last_attempt_at),
            "next_attempt_at": iso(d.next_attempt_at) if d.state == "pending" else None,
            "delivered_at": iso(d.delivered_at)}


class Webhooks:
    def __init__(self, db: Database, clock: Clock, throttle: Throttle, deliveries: WebhookDeliveries) -> None:
        self.db, self.clock, self.throttle, self.deliveries = db, clock, throttle, deliveries
        self.cipher = deliveries.cipher

    async def list(self, person: Person) -> list[dict[str, Any]]:
        scope = Scope.of(person)
        async with self.db.read() as s:
            rows = (await s.execute(select(WebhookEndpoint).where(self._in(scope))
                                    .order_by(WebhookEndpoint.id))).scalars()
            return [endpoint_view(ep) for ep in rows]

    async def create(self, person: Person, url: object, events: object, description: object = None,
                     internal: object = False) -> dict[str, Any]:
        """Register an endpoint; the answer carries its secret, which is never shown again."""
        scope = Scope.of(person)
        url_ = rules.check_url(url, self.deliveries.allow_local)
        chosen = rules.check_events(events if isinstance(events, (list, tuple)) else [] if events is None
                                    else [events])
        words = rules.check_description(description)
        if not isinstance(internal, bool):
            raise BadRequestError("internal is true or false.")
        if internal and scope.org_id is not None:
            raise ForbiddenError("Internal notes never go to an organisation's endpoint.")
        secret = new_secret()
        async with self.db.write() as s:
            count = await s.scalar(select(func.count()).select_from(WebhookEndpoint).where(self._in(scope)))
            if (count or 0) >= MAX_ENDPOINTS:
                raise ForbiddenError(f"At most {MAX_ENDPOINTS} endpoints each; delete one you no longer use.")
            after = await s.scalar(select(func.coalesce(func.max(TicketEvent.id), 0)))
            ep = WebhookEndpoint(org_id=scope.org_id, owner_id=person.id, url=url_, description=words,
                                 events=chosen, internal=bool(internal), after_event_id=int(after or 0),
                                 secret_encrypted=self.cipher.encrypt(secret.encode()).decode(),
                                 created_at=self.clock.now(), failures_in_row=0)
            s.add(ep)
            await s.flush()
            return {**endpoint_view(ep), "secret": secret}

    async def rotate(self, person: Person, endpoint_id: object) -> dict[str, Any]:
        """A new secret, in force at once (the old one stops signing); shown this once."""
        secret = new_secret()
        async with self.db.write() as s:
            ep = await self._mine(s, person, endpoint_id)
            ep.secret_encrypted = self.cipher.encrypt(secret.encode()).decode()
            return {**endpoint_view(ep), "secret": secret}

    async def set_enabled(self, person: Person, endpoint_id: object, enabled: bool) -> dict[str, Any]:
        now = self.clock.now()
        async with self.db.write() as s:
            ep = await self._mine(s, person, endpoint_id)
            if enabled and ep.disabled_at is not None:
                ep.disabled_at, ep.disabled_reason, ep.failures_in_row, ep.failing_since = None, None, 0, None
                await s.execute(update(WebhookDelivery).where(  # what waited is retried at once, in order
                    WebhookDelivery.endpoint_id == ep.id, WebhookDelivery.state == "pending",
                ).values(next_attempt_at=now))
            elif not enabled and ep.disabled_at is None:
                ep.disabled_at, ep.disabled_reason = now, f"disabled by {person.name}"[:200]
            return endpoint_view(ep)

    async def delete(self, person: Person, endpoint_id: object) -> None:
        async with self.db.write() as s:
            ep = await self._mine(s, person, endpoint_id)
            await s.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id))
            await s.delete(ep)

    async def log(self, person: Person, endpoint_id: object, limit: int = LOG_SIZE) -> dict[str, Any]:
        """The endpoint and its latest deliveries, newest first."""
        async with self.db.read() as s:
            ep = await self._mine(s, person, endpoint_id)
            rows = (await s.execute(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id)
                                    .order_by(WebhookDelivery.id.desc()).limit(limit))).scalars()
            return {"endpoint": endpoint_view(ep), "deliveries": [delivery_view(d) for d in rows]}

    async def send_test(self, person: Person, endpoint_id: object) -> dict[str, Any]:
        """Send a `ping` now (whether or not the endpoint is enabled) and say what the receiver answered."""
        now = self.clock.now()
        async with self.db.read() as s:
            ep = await self._mine(s, person, endpoint_id)
        await self.throttle.check((TEST_SENDS, str(ep.id)))
        await self.throttle.fail((TEST_SENDS, str(ep.id)))
        uid = new_delivery_id()
        body = rules.payload(uid, rules.PING, iso(now), None, None)
        body["endpoint"] = {"id": ep.id, "url": ep.url}
        async with self.db.write() as s:  # born claimed: the worker leaves it to us
            d = WebhookDelivery(uid=uid, endpoint_id=ep.id, event=rules.PING, body=orjson.dumps(body).decode(),
                                state="pending", attempts=1, next_attempt_at=now + CLAIM, created_at=now)
            s.add(d)
            await s.flush()
            s.expunge(d)
        async with httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT, trust_env=False) as client:
            outcome = await self.deliveries.attempt(client, ep, d, now)
        await self.deliveries.record(d.id, outcome, now)
        async with self.db.read() as s:
            row = await s.get(WebhookDelivery, d.id)
            assert row is not None
            return delivery_view(row)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _in(scope: Scope) -> Any:
        return WebhookEndpoint.org_id.is_(None) if scope.org_id is None else WebhookEndpoint.org_id == scope.org_id

    async def _mine(self, s: Any, person: Person, endpoint_id: object) -> WebhookEndpoint:
        scope = Scope.of(person)
        ep = await s.get(WebhookEndpoint, require_id(endpoint_id, "endpoint"))
        if ep is None or not scope.holds(ep):
            raise NotFoundError(GONE)
        return ep  # type: ignore[no-any-return]


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"
