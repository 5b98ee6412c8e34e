"""Following tickets and choosing how often to hear of them: the ticket page's button, the account page's
preferences, and the one-click unsubscribe link that every notification e-mail carries."""

from __future__ import annotations

from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from livesupport.actions.tickets import Tickets
from livesupport.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from livesupport.domain.huddle import whole_number
from livesupport.domain.notifications import Mode, check_hour, check_mode
from livesupport.domain.people import Person, Role, can_see_org
from livesupport.store import notifications as store
from livesupport.store.models import Organisation, Ticket, User
from livesupport.store.people import person_of

Scope = Literal["ticket", "all"]


class UnsubscribeLinks:
    """Signed, unguessable links: who (and which ticket, when the e-mail was about one). They do not expire,
    so an old e-mail still unsubscribes; the signature's salt is theirs alone, so no other token fits."""

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="livesupport.unsubscribe")

    def token(self, user_id: int, ticket_id: int | None) -> str:
        return self._signer.dumps([user_id, ticket_id])

    def read(self, token: str) -> tuple[int, int | None]:
        try:
            user_id, ticket_id = self._signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise BadRequestError("This unsubscribe link is not valid: it may have been cut short when it was "
                                  "copied. Open it from the e-mail again, or sign in and use your account page."
                                  ) from None
        if not isinstance(user_id, int) or not (ticket_id is None or isinstance(ticket_id, int)):
            raise BadRequestError("This unsubscribe link is not valid.")
        return user_id, ticket_id


class Following:
    def __init__(self, tickets: Tickets, secret_key: str) -> None:
        self.tickets, self.db, self.clock = tickets, tickets.db, tickets.clock
        self.links = UnsubscribeLinks(secret_key)

    async def status(self, person: Person, ticket_id: int) -> dict[str, Any]:
        """Whether this person follows the ticket, and why (`reason` is None when they do not)."""
        async with self.db.read() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id)
            reason = (await store.followers_of(s, {ticket.id: ticket.opened_by}))[ticket.id].get(person.id)
        return {"following": reason is not None, "reason": reason}

    async def follow(self, person: Person, ticket_id: int, user_id: object = None) -> dict[str, Any]:
        """Follow a ticket; staff may also add someone who can see it (a contact of its organisation)."""
        target = person.id if user_id is None else whole_number(user_id, "user_id")
        async with self.tickets.writing() as s:
            ticket, org = await self.tickets.visible(s, person, ticket_id)
            if target != person.id:
                if not person.is_staff:
                    raise ForbiddenError("Only support staff can add someone else to a ticket.")
                await self._may_follow(s, target, org)
            await store.choose(s, ticket.id, target, "follow" if target == person.id else "added", False,
                               self.clock.now())
        return await self._status_of(target, ticket_id)

    async def unfollow(self, person: Person, ticket_id: int) -> dict[str, Any]:
        """Stop e-mails about a ticket, also when one follows it by role (opened, assigned, in the huddle)."""
        async with self.tickets.writing() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id)
            await store.choose(s, ticket.id, person.id, "follow", True, self.clock.now())
        return {"following": False, "reason": None}

    async def contacts(self, person: Person, ticket_id: int) -> list[dict[str, Any]]:
        """For staff: the ticket's organisation's contacts, and whether each follows it (to add them)."""
        if not person.is_staff:
            raise ForbiddenError("Only support staff can add someone else to a ticket.")
        async with self.db.read() as s:
            ticket, _ = await self.tickets.visible(s, person, ticket_id)
            people = (await s.execute(select(User).where(
                User.org_id == ticket.org_id, User.disabled_at.is_(None),
                User.role.in_([Role.CLIENT.value, Role.DOMAIN_ADMIN.value])).order_by(User.name))).scalars()
            follow = (await store.followers_of(s, {ticket.id: ticket.opened_by}))[ticket.id]
            return [{"id": u.id, "name": u.name, "following": u.id in follow} for u in people]

    async def _may_follow(self, s: Any, user_id: int, org: Organisation) -> None:
        user = await s.get(User, user_id)
        if user is None or user.disabled_at is not None:
            raise NotFoundError("There is no active account with that id.")
        if not can_see_org(person_of(user), org.id, org.partner_id):
            raise ForbiddenError(f"{user.name} cannot see this ticket: add a contact of {org.name}, or staff.")

    async def _status_of(self, user_id: int, ticket_id: int) -> dict[str, Any]:
        async with self.db.read() as s:
            ticket = await s.get(Ticket, ticket_id)
            assert ticket is not None
            reason = (await store.followers_of(s, {ticket.id: ticket.opened_by}))[ticket.id].get(user_id)
        return {"following": reason is not None, "reason": reason, "user_id": user_id}

    # -- preferences -------------------------------------------------------------------

    async def preferences(self, person: Person) -> tuple[Mode, int]:
        async with self.db.read() as s:
            return (await store.prefs(s, [person.id]))[person.id]

    async def set_preferences(self, person: Person, mode: object, hour: object) -> tuple[Mode, int]:
        chosen, at = check_mode(mode), check_hour(hour)
        async with self.tickets.writing() as s:
            await store.set_pref(s, person.id, chosen, at, self.clock.now())
            if chosen is Mode.OFF:
                await store.tell_everything(s, person.id)
        return chosen, at

    # -- unsubscribing by link ------------------------------------------------------------

    async def unsubscribe_target(self, token: str) -> tuple[User, Ticket | None]:
        """Whom a link is for, and the ticket it names (None: every notification e-mail)."""
        user_id, ticket_id = self.links.read(token)
        async with self.db.read() as s:
            user = await s.get(User, user_id)
            ticket = await s.get(Ticket, ticket_id) if ticket_id is not None else None
        if user is None or (ticket_id is not None and ticket is None):
            raise NotFoundError("That account or ticket no longer exists, so there is nothing to unsubscribe from.")
        return user, ticket

    async def unsubscribe(self, token: str, scope: object) -> tuple[User, Ticket | None]:
        """Stop e-mails about the link's ticket (`ticket`), or every notification e-mail (`all`)."""
        if scope not in ("ticket", "all"):
            raise BadRequestError("Choose what to stop: e-mails about this ticket, or all notification e-mails.")
        user, ticket = await self.unsubscribe_target(token)
        now = self.clock.now()
        async with self.tickets.writing() as s:
            if scope == "ticket" and ticket is not None:
                await store.choose(s, ticket.id, user.id, "follow", True, now)
            else:
                _, hour = (await store.prefs(s, [user.id]))[user.id]
                await store.set_pref(s, user.id, Mode.OFF, hour, now)
                await store.tell_everything(s, user.id)
        return user, ticket if scope == "ticket" else None
