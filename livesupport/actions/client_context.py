"""The client context staff see beside a ticket: standing, other open tickets, a transfer, a verified caller.

Staff only, and read at one instant of the injected clock so every time-based part agrees.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from livesupport.actions.billing import Billing
from livesupport.clock import Clock, iso
from livesupport.domain import client_context as rules
from livesupport.domain.errors import ForbiddenError
from livesupport.domain.people import Person
from livesupport.domain.tickets import OPEN_STATUSES
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import PhoneVerification, Ticket, Transfer, TransferMilestone, User

OTHER_TICKETS = 8
TRANSFER_UNDER_WAY = ("unconfirmed", "open")


class ClientContext:
    def __init__(self, db: Database, clock: Clock, billing: Billing) -> None:
        self.db, self.clock, self.billing = db, clock, billing

    async def of_ticket(self, person: Person, ticket_id: int) -> dict[str, Any]:
        if not person.is_staff:  # billing standing and phone checks are the desk's business, never the client's
            raise ForbiddenError("Only support staff see the client's context.")
        now = self.clock.now()
        async with self.db.read() as s:
            found = await store.get(s, ticket_id)
            if found is None:
                raise ForbiddenError("You cannot open that ticket.")
            ticket, org = found
            others = (await s.execute(
                select(Ticket.id, Ticket.subject, Ticket.status, Ticket.updated_at)
                .where(Ticket.org_id == org.id, Ticket.id != ticket.id,
                       Ticket.status.in_([st.value for st in OPEN_STATUSES]))
                .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(OTHER_TICKETS + 1))).all()
            transfer = (await s.execute(
                select(Transfer).where(Transfer.org_id == org.id, Transfer.state.in_(TRANSFER_UNDER_WAY))
                .order_by(Transfer.created_at.desc()).limit(1))).scalar_one_or_none()
            step = None if transfer is None else (await s.execute(
                select(TransferMilestone.kind, TransferMilestone.due_at)
                .where(TransferMilestone.transfer_id == transfer.id, TransferMilestone.state == "active")
                .order_by(TransferMilestone.position).limit(1))).first()
            contact, staff = aliased(User), aliased(User)
            check = (await s.execute(
                select(PhoneVerification.verified_at, contact.name, staff.name)
                .join(contact, contact.id == PhoneVerification.contact_id)
                .join(staff, staff.id == PhoneVerification.staff_id)
                .where(contact.org_id == org.id, PhoneVerification.verified_at >= now - rules.VERIFIED_FOR,
                       PhoneVerification.verified_at <= now)
                .order_by(PhoneVerification.verified_at.desc()).limit(1))).first()
            opener = await s.get(User, ticket.opened_by)
        money = await self.billing.summary(person, org.id)
        verified = None
        if check is not None and rules.verified_recently(check[0], now):
            verified = {"contact": check[1], "by": check[2], "at": iso(check[0]),
                        "until": iso(check[0] + rules.VERIFIED_FOR)}
        contact_view = None
        if opener is not None and opener.org_id == org.id:
            contact_view = {"id": opener.id, "name": opener.name,
                            "local_time": rules.local_time(opener.time_zone, now)}
        return {
            "at": iso(now),
            "org": {"id": org.id, "name": org.name},
            "billing": {"standing": money["standing"], "owed_cents": money["owed_cents"],
                        "next_deadline": money["next_deadline"]},
            "open_tickets": [{"id": i, "subject": subj, "status": st, "updated_at": iso(at)}
                             for i, subj, st, at in others[:OTHER_TICKETS]],
            "more_open_tickets": len(others) > OTHER_TICKETS,
            "transfer": None if transfer is None else {
                "id": transfer.id, "state": transfer.state, "desired_date": transfer.desired_date.isoformat(),
                "step": None if step is None else {"kind": step[0], "due_at": iso(step[1])},
                "escalated": transfer.escalated_at is not None},
            "verified_caller": verified,
            "contact": contact_view,
        }

    async def zone_of(self, person: Person, default: ZoneInfo) -> tuple[ZoneInfo, bool]:
        """The person's own time zone, as their browser last reported it (True), or `default` until it has."""
        async with self.db.read() as s:
            name = (await s.execute(select(User.time_zone).where(User.id == person.id))).scalar_one_or_none()
        return rules.own_zone(name, default)

    async def record_time_zone(self, person: Person, zone: object) -> None:
        """The person's browser says where they are: kept for the local time staff see beside their tickets."""
        name = rules.check_time_zone(zone)
        async with self.db.write() as s:
            await s.execute(update(User).where(User.id == person.id, or_(User.time_zone.is_(None),
                                                                          User.time_zone != name))
                            .values(time_zone=name))
