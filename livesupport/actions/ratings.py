"""Satisfaction: "How did we do?". Asked once when a ticket is resolved (on its page, and by e-mail with signed
one-click links); answered by the ticket's own contacts for RATING_DAYS after the resolving, the latest counting.
Staff see it as an internal `rating` event; a bad one reaches the assignees' notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from livesupport.actions.mail import Mailer
from livesupport.actions.reply_tokens import TicketThreads
from livesupport.actions.tickets import Tickets, to_ev
from livesupport.clock import Clock
from livesupport.domain import outcomes as rules
from livesupport.domain.errors import BadRequestError, ForbiddenError
from livesupport.domain.people import Person
from livesupport.realtime.frames import encode
from livesupport.store import outcomes as store
from livesupport.store import tickets as tickets_store
from livesupport.store.models import Ticket, User
from livesupport.store.people import person_of

LINK_AGE = timedelta(days=rules.RATING_DAYS, hours=1)  # the links die with the window (an hour's grace for mail)


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a rating link names, checked: who, which ticket, which score."""

    user: User
    ticket: Ticket
    score: rules.Score


class RatingLinks:
    """Signed, expiring links bound to one ticket, one contact and one score; their salt fits no other token."""

    def __init__(self, secret_key: str, clock: Clock) -> None:
        class ClockedSigner(TimestampSigner):
            def get_timestamp(self) -> int:  # the injected clock's time, so tests can let links expire
                return int(clock.now().timestamp())

        self._signer = URLSafeTimedSerializer(secret_key, salt="livesupport.rating", signer=ClockedSigner)

    def token(self, ticket_id: int, user_id: int, score: str) -> str:
        return self._signer.dumps([ticket_id, user_id, score])

    def read(self, token: str) -> tuple[int, int, rules.Score]:
        try:
            ticket_id, user_id, score = self._signer.loads(token, max_age=int(LINK_AGE.total_seconds()))
        except SignatureExpired:
            raise BadRequestError(f"This rating link has expired: ratings can be given for {rules.RATING_DAYS} "
                                  "days after a ticket is resolved.") from None
        except (BadSignature, ValueError, TypeError):
            raise BadRequestError("This rating link is not valid: it may have been cut short when it was copied. "
                                  "Sign in and rate the ticket on its page instead.") from None
        if not isinstance(ticket_id, int) or not isinstance(user_id, int) or score not in rules.SCORES:
            raise BadRequestError("This rating link is not valid.")
        return ticket_id, user_id, score


class Ratings:
    def __init__(self, tickets: Tickets, mailer: Mailer, secret_key: str, base_url: str | None,
                 threads: TicketThreads) -> None:
        self.tickets, self.mailer, self.threads = tickets, mailer, threads
        self.db, self.clock, self.hub = tickets.db, tickets.clock, tickets.hub
        self.links, self.base = RatingLinks(secret_key, tickets.clock), base_url or ""

    async def ask(self, s: Any, ticket_id: int, now: datetime) -> None:
        """In the transaction that resolves the ticket: e-mail its client contacts the question, once a ticket."""
        if not await store.once(s, f"rating-ask:{ticket_id}", now):
            return
        ticket = await s.get(Ticket, ticket_id)
        for user in await store.client_contacts(s, ticket_id):
            good, bad = (f"{self.base}/rate/{self.links.token(ticket_id, user.id, score)}" for score in rules.SCORES)
            body = (f"Hello {user.name},\n\nyour ticket #{ticket_id} \"{ticket.subject}\" is solved. How did we do?\n\n"
                    f"Good:  {good}\nBad:   {bad}\n\n"
                    f"Each link opens a page where you confirm (and may add a comment). You can change your answer "
                    f"for {rules.RATING_DAYS} days, here or on the ticket's page.\n")
            await self.mailer.queue(s, user.email, f"[#{ticket_id}] How did we do? {ticket.subject}", body,
                                    await self.threads.headers(s, ticket_id, user.id, f"rating.{user.id}"),
                                    secret="one-click rating links")

    async def rate(self, person: Person, ticket_id: int, score: object, comment: object = None) -> dict[str, Any]:
        """The ticket's own contacts rate it once resolved, for RATING_DAYS; the latest rating counts."""
        score_ = rules.check_score(score)
        comment_ = rules.check_comment(comment)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id, lock=True)
            if not rules.is_ticket_client(person, ticket.org_id):
                raise ForbiddenError("Only the ticket's own contacts can rate it.")
            resolved = await store.resolved_at(s, ticket_id)
            rules.check_rating_window(ticket.status, resolved, now)
            await store.save_rating(s, ticket_id, person.id, score_, comment_, now)
            ev = await tickets_store.append_event(s, ticket_id, kind="rating", visibility="internal", actor=person,
                                                  data={"score": score_, "comment": comment_}, now=now)
            current = await tickets_store.current(s, ticket_id, assignees=True, lock=False)
        await self.hub.publish_event(ticket_id, to_ev(ev))
        if score_ == "bad" and current is not None:
            self.tell_assignees(current.assignees, {
                "kind": "bad_rating", "seq": ev.seq, "ticket": {"id": ticket_id, "subject": ticket.subject},
                "by": person.public(), "excerpt": comment_[:140], "url": f"/tickets/{ticket_id}"})
        return {"score": score_, "comment": comment_, "at": tickets_store.iso(now), "seq": ev.seq,
                "rating_until": tickets_store.iso(rules.rating_until(resolved))}

    async def link_target(self, token: str) -> LinkTarget:
        """Who and what a rating link names, when it is good and its contact still belongs to the ticket."""
        ticket_id, user_id, score = self.links.read(token)
        async with self.db.read() as s:
            user, ticket = await s.get(User, user_id), await s.get(Ticket, ticket_id)
        if user is None or ticket is None or user.disabled_at is not None or \
                not rules.is_ticket_client(person_of(user), ticket.org_id):
            raise BadRequestError("This rating link no longer works: the account or the ticket changed.")
        return LinkTarget(user, ticket, score)

    async def rate_by_link(self, token: str, comment: object) -> tuple[LinkTarget, dict[str, Any]]:
        """The confirmation page's POST: records the score the link names, as its contact."""
        target = await self.link_target(token)
        return target, await self.rate(person_of(target.user), target.ticket.id, target.score, comment)

    def tell_assignees(self, assignees: list[int], notice: dict[str, Any]) -> None:
        """A desktop notice to each assignee (after the commit)."""
        for user_id in assignees:
            self.hub.notify(f"user:{user_id}", encode({"type": "notice", "topic": f"user:{user_id}", **notice}))
