"""Billing use cases: services, monthly invoices, fees, suspension, payments and cancellations.

The rules live in domain/billing.py; here they meet the database. Every step the worker takes can run twice,
or in two workers at once, and still charges once: invoices are unique per organisation and month, each line
has a unique key, suspension is a conditional update, and each notice is recorded before it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update

from livesupport.actions.mail import Mailer
from livesupport.clock import Clock, iso
from livesupport.domain import billing as rules
from livesupport.domain import dates
from livesupport.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from livesupport.domain.ids import is_id
from livesupport.domain.people import Person, Role, can_see_org
from livesupport.domain.phone import ACTIONS
from livesupport.realtime.frames import encode
from livesupport.realtime.hub import Hub
from livesupport.store.database import Database, upsert_insert
from livesupport.store.models import (
    Invoice,
    InvoiceLine,
    Organisation,
    Payment,
    SentNotice,
    Service,
    User,
)

log = logging.getLogger("livesupport.billing")

REMIND_BEFORE = timedelta(days=3)
MAX_PAYMENT = 100_000_000  # $1,000,000.00 in one payment is surely a typo


def may_bill(person: Person) -> bool:
    return person.role in (Role.ADMIN, Role.BILLING)


def _first(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass
class RunReport:
    """What one run of the worker did (all zero on a second run at the same instant)."""

    invoices: int = 0
    fees: int = 0
    suspended: int = 0
    reminders: int = 0
    notes: list[str] = field(default_factory=list)


class Billing:
    def __init__(self, db: Database, clock: Clock, policy: rules.Policy, mailer: Mailer | None = None,
                 hub: Hub | None = None) -> None:
        self.db, self.clock, self.policy, self.mailer, self.hub = db, clock, policy, mailer, hub

    # -- who may see what ------------------------------------------------------------

    async def _org(self, s: Any, person: Person, org_id: int) -> Organisation:
        org = await s.get(Organisation, org_id) if is_id(org_id) else None
        if org is None or not (person.is_staff or may_bill(person) or can_see_org(person, org.id, org.partner_id)):
            raise ForbiddenError("You cannot see that organisation's billing.")
        return org

    # -- operators ---------------------------------------------------------------------

    async def add_service(self, org_name: str, name: str, monthly_cents: int, started_at: datetime | None = None) -> int:
        """For operators (`livesupport service add`): by the organisation's name."""
        async with self.db.read() as s:
            org = (await s.execute(select(Organisation).where(Organisation.name == org_name))).scalar_one_or_none()
        if org is None:
            raise NotFoundError(f"There is no organisation called {org_name!r}.")
        return await self._add_service(org.id, name, monthly_cents, started_at)

    async def add_service_for(self, person: Person, org_id: int, name: object, monthly_cents: int,
                              started_at: datetime | None = None) -> int:
        """For billing staff on the organisation's billing page."""
        if not may_bill(person):
            raise ForbiddenError("Only billing staff can add services.")
        return await self._add_service(org_id, name, monthly_cents, started_at)

    async def _add_service(self, org_id: int, name: object, monthly_cents: int, started_at: datetime | None) -> int:
        if not isinstance(name, str) or not name.strip():
            raise BadRequestError("Name the service.")
        if len(name.strip()) > 200:
            raise BadRequestError("A service's name has at most 200 characters.")
        if isinstance(monthly_cents, bool) or not isinstance(monthly_cents, int) or monthly_cents < 0:
            raise BadRequestError("The monthly price is a whole number of cents (e.g. 2500 for $25.00).")
        async with self.db.write() as s:
            org = await s.get(Organisation, org_id) if is_id(org_id) else None
            if org is None:
                raise NotFoundError("There is no such organisation.")
            service = Service(org_id=org.id, name=name.strip(), monthly_cents=monthly_cents,
                              started_at=started_at or self.clock.now(), status="active")
            s.add(service)
            await s.flush()
            return service.id

    # -- reading -------------------------------------------------------------------------

    async def orgs(self, person: Person, sort: object = "standing") -> list[dict[str, Any]]:
        """The client organisations this person may see, each with its standing and what it owes: worst first
        (suspended, then late, then the most owed), or by `sort` ("owed" or "name")."""
        if sort not in rules.ORG_SORTS:
            raise BadRequestError(f"Sort by one of: {', '.join(rules.ORG_SORTS)}.")
        now = self.clock.now()
        async with self.db.read() as s:
            stmt = select(Organisation).where(Organisation.kind == "client").order_by(Organisation.name)
            found = [o for o in (await s.execute(stmt)).scalars()
                     if person.is_staff or may_bill(person) or can_see_org(person, o.id, o.partner_id)]
            owed = await self._owed_by_org(s, [o.id for o in found])
        rows = []
        for o in found:
            unpaid = owed.get(o.id, {})
            standing = (rules.Standing.SUSPENDED if o.suspended_at is not None
                        else rules.standing(self.policy, now, list(unpaid)))
            rows.append({"id": o.id, "name": o.name, "standing": standing.value,
                         "owed_cents": sum(unpaid.values())})
        order = str(sort)
        return sorted(rows, key=lambda r: rules.org_sort_key(order, rules.Standing(r["standing"]), r["owed_cents"],
                                                             r["name"]))

    @staticmethod
    async def _owed_by_org(s: Any, org_ids: list[int]) -> dict[int, dict[date, int]]:
        """What each organisation still owes, by the month of each invoice not paid in full (three queries)."""
        if not org_ids:
            return {}
        invoices = (await s.execute(select(Invoice.id, Invoice.org_id, Invoice.period_start)
                                    .where(Invoice.org_id.in_(org_ids)))).all()
        ids = [i.id for i in invoices]
        totals: dict[int, int] = {}
        paid: dict[int, int] = {}
        if ids:
            totals = {i: int(t) for i, t in (await s.execute(
                select(InvoiceLine.invoice_id, func.sum(InvoiceLine.cents))
                .where(InvoiceLine.invoice_id.in_(ids)).group_by(InvoiceLine.invoice_id))).all()}
            paid = {i: int(t) for i, t in (await s.execute(
                select(Payment.invoice_id, func.sum(Payment.amount_cents))
                .where(Payment.invoice_id.in_(ids)).group_by(Payment.invoice_id))).all()}
        out: dict[int, dict[date, int]] = {}
        for inv in invoices:
            due = max(0, totals.get(inv.id, 0) - paid.get(inv.id, 0))
            if due:
                months = out.setdefault(inv.org_id, {})
                months[inv.period_start] = months.get(inv.period_start, 0) + due
        return out

    async def summary(self, person: Person, org_id: int) -> dict[str, Any]:
        """Standing, services, invoices and the next deadline of one organisation."""
        now = self.clock.now()
        async with self.db.read() as s:
            org = await self._org(s, person, org_id)
            services = list((await s.execute(select(Service).where(Service.org_id == org.id)
                                             .order_by(Service.id))).scalars())
            invoices = await self._invoices(s, org.id)
        unpaid = [i for i in invoices if i["amount_due_cents"] > 0]
        standing = rules.standing(self.policy, now, [date.fromisoformat(i["period_start"]) for i in unpaid])
        if org.suspended_at is not None:  # suspended until everything owed is paid, whatever falls due meanwhile
            standing = rules.Standing.SUSPENDED
        deadline = None
        for inv in unpaid:
            found = rules.next_deadline(self.policy, date.fromisoformat(inv["period_start"]), now, True)
            if found is not None and (deadline is None or found.at < deadline.at):
                deadline = found
        return {
            "org": {"id": org.id, "name": org.name},
            "standing": standing.value,
            "owed_cents": sum(i["amount_due_cents"] for i in invoices),
            "next_deadline": None if deadline is None else {
                "kind": deadline.kind, "at": iso(deadline.at),
                "cents": deadline.cents, "message": deadline.message},
            "services": [self._service_view(sv) for sv in services],
            "invoices": invoices,
        }

    @staticmethod
    def _service_view(sv: Service) -> dict[str, Any]:
        return {"id": sv.id, "name": sv.name, "monthly_cents": sv.monthly_cents, "status": sv.status,
                "started_at": iso(sv.started_at),
                "ends_on": sv.ends_on.isoformat() if sv.ends_on else None,
                "billed_through": sv.billed_through.isoformat() if sv.billed_through else None}

    async def _invoices(self, s: Any, org_id: int) -> list[dict[str, Any]]:
        invoices = list((await s.execute(select(Invoice).where(Invoice.org_id == org_id)
                                         .order_by(Invoice.period_start.desc()))).scalars())
        ids = [i.id for i in invoices]
        lines: dict[int, list[InvoiceLine]] = {i: [] for i in ids}
        paid: dict[int, int] = {}
        if ids:
            for line in (await s.execute(select(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids))
                                         .order_by(InvoiceLine.id))).scalars():
                lines[line.invoice_id].append(line)
            for inv_id, total in (await s.execute(select(Payment.invoice_id, func.sum(Payment.amount_cents))
                                                  .where(Payment.invoice_id.in_(ids))
                                                  .group_by(Payment.invoice_id))).all():
                paid[inv_id] = int(total)
        out = []
        for inv in invoices:
            total = sum(line.cents for line in lines[inv.id])
            due = max(0, total - paid.get(inv.id, 0))
            out.append({
                "id": inv.id, "period_start": inv.period_start.isoformat(),
                "issued_at": iso(inv.issued_at),
                "lines": [{"kind": ln.kind, "description": ln.description, "cents": ln.cents,
                           "service_id": ln.service_id} for ln in lines[inv.id]],
                "total_cents": total, "paid_cents": paid.get(inv.id, 0), "amount_due_cents": due,
                "status": "paid" if due == 0 else "open",
            })
        return out

    async def standing_of(self, org_id: int) -> rules.Standing:
        """For other features (phone PINs): is this organisation in good standing now?"""
        now = self.clock.now()
        async with self.db.read() as s:
            invoices = await self._invoices(s, org_id)
            org = await s.get(Organisation, org_id)
        if org is not None and org.suspended_at is not None:
            return rules.Standing.SUSPENDED
        return rules.standing(self.policy, now, [date.fromisoformat(i["period_start"]) for i in invoices
                                                 if i["amount_due_cents"] > 0])

    # -- payments --------------------------------------------------------------------------

    async def record_payment(self, person: Person, invoice_id: int, amount_cents: object) -> dict[str, Any]:
        if not may_bill(person):
            raise ForbiddenError("Only billing staff can record payments.")
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
            raise BadRequestError("amount_cents must be a positive whole number of cents (2500 is $25.00).")
        if amount_cents > MAX_PAYMENT:
            raise BadRequestError(f"One payment can be at most {rules.money(MAX_PAYMENT)}.")
        now = self.clock.now()
        async with self.db.write() as s:
            inv = await s.get(Invoice, invoice_id) if is_id(invoice_id) else None
            if inv is None:
                raise NotFoundError("There is no such invoice.")
            view = next(i for i in await self._invoices(s, inv.org_id) if i["id"] == inv.id)
            if amount_cents > view["amount_due_cents"]:
                raise ConflictError(f"That is more than this invoice's {rules.money(view['amount_due_cents'])} due.")
            s.add(Payment(invoice_id=inv.id, amount_cents=amount_cents, recorded_by=person.id, at=now))
            if amount_cents == view["amount_due_cents"]:
                inv.paid_at = now
            org_id = inv.org_id
        await self._restore_if_clear(org_id)
        async with self.db.read() as s:
            return next(i for i in await self._invoices(s, org_id) if i["id"] == invoice_id)

    async def _restore_if_clear(self, org_id: int) -> None:
        """Paying everything owed restores suspended services at once."""
        async with self.db.write() as s:
            if any(i["amount_due_cents"] > 0 for i in await self._invoices(s, org_id)):
                return
            done = await s.execute(update(Organisation).where(Organisation.id == org_id,
                                                              Organisation.suspended_at.is_not(None))
                                   .values(suspended_at=None).returning(Organisation.id))
            if done.scalar_one_or_none() is None:
                return
            await s.execute(update(Service).where(Service.org_id == org_id, Service.status == "suspended")
                            .values(status="active"))
        self._announce(org_id, "good", "Your services are running again. Thank you for your payment.")
        await self._mail_org(org_id, f"restored:{org_id}:{self.clock.now().isoformat()}",
                             "Your services are running again",
                             "We received your payment: everything owed is paid and your services are running again.")

    # -- cancellation ------------------------------------------------------------------------

    def _may_cancel(self, person: Person, org: Organisation, waive: bool) -> None:
        if person.role is Role.STAFF and (person.tier or 0) < 2:  # Level 1 is phone support: a red line
            raise ForbiddenError(ACTIONS["delete_service"].why)
        if waive and not (person.is_staff or may_bill(person)):
            raise ForbiddenError("Only our staff can waive the 30 days' notice.")
        if not (person.is_staff or may_bill(person) or (person.role is Role.DOMAIN_ADMIN
                                                        and person.org_id == org.id)):
            raise ForbiddenError("Only your organisation's domain administrator can cancel a service.")

    async def preview(self, person: Person, service_id: object, at: datetime | None = None,
                      waive: bool = False) -> tuple[Service, rules.CancellationOutcome]:
        async with self.db.read() as s:
            sv = await s.get(Service, service_id) if is_id(service_id) else None
            if sv is None:
                raise NotFoundError("There is no such service.")
            org = await self._org(s, person, sv.org_id)
        self._may_cancel(person, org, waive)
        if sv.status == "cancelled":
            ends = f"{sv.ends_on:%b} {sv.ends_on.day}, {sv.ends_on.year}" if sv.ends_on else "soon"
            raise ConflictError(f"{sv.name} is already cancelled; it ends {ends}.")
        started = sv.started_at.astimezone(self.policy.tz).date()
        return sv, rules.cancellation(self.policy, at or self.clock.now(), started, waive, sv.monthly_cents)

    async def cancel(self, person: Person, service_id: object, waive: bool = False) -> rules.CancellationOutcome:
        now = self.clock.now()
        sv, outcome = await self.preview(person, service_id, now, waive)
        if not outcome.accepted:
            await self._mail_org(sv.org_id, f"refused:{sv.id}:{now.isoformat()}", "Your cancellation was not accepted",
                                 outcome.explanation)
            return outcome
        local_first = _first(now.astimezone(self.policy.tz).date())
        async with self.db.write() as s:
            done = await s.execute(update(Service).where(Service.id == sv.id, Service.status != "cancelled").values(
                status="cancelled", cancel_requested_at=now, cancel_waived=waive, ends_on=outcome.end_of_service,
                billed_through=max(outcome.months_billed, default=local_first)))
            if not done.rowcount:  # type: ignore[attr-defined]
                raise ConflictError(f"{sv.name} was cancelled meanwhile.")
        await self._mail_org(sv.org_id, f"cancelled:{sv.id}", f"{sv.name} is cancelled", outcome.explanation)
        return outcome

    # -- the worker's jobs -----------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> RunReport:
        """Everything due at `now`: invoices on the 1st, fees on the 5th, suspensions on the 15th, reminders."""
        now = now or self.clock.now()
        report = RunReport()
        async with self.db.read() as s:
            org_ids = list((await s.execute(select(Service.org_id).distinct())).scalars())
        for org_id in org_ids:
            report.invoices += await self._invoice(org_id, now)
        async with self.db.read() as s:
            billed = list((await s.execute(select(Invoice.org_id).distinct())).scalars())
        for org_id in billed:  # each organisation's invoices are read once per run, and again only if fees came
            rows, views = await self._org_invoices(org_id)
            added = 0
            for view in views:
                fees, suspended = await self._fees(rows[view["id"]], view, now)
                added += fees
                report.suspended += suspended
            report.fees += added
            if added:
                rows, views = await self._org_invoices(org_id)
            for view in views:
                report.reminders += await self._remind(rows[view["id"]], view, now)
        return report

    async def _org_invoices(self, org_id: int) -> tuple[dict[int, Invoice], list[dict[str, Any]]]:
        async with self.db.read() as s:
            rows = {i.id: i for i in (await s.execute(select(Invoice).where(Invoice.org_id == org_id))).scalars()}
            return rows, await self._invoices(s, org_id)

    async def _invoice(self, org_id: int, now: datetime) -> int:
        """Issue every monthly invoice of this organisation due by `now` that is missing (a late worker catches up)."""
        current = _first(now.astimezone(self.policy.tz).date())
        made = 0
        async with self.db.read() as s:
            services = list((await s.execute(select(Service).where(Service.org_id == org_id))).scalars())
            last = (await s.execute(select(func.max(Invoice.period_start)).where(Invoice.org_id == org_id))).scalar()
        if not services:
            return 0
        starts = [rules.first_invoice_period(sv.started_at, self.policy) for sv in services]
        period = _next_month(last) if last else min(starts)
        while period <= current:
            lines = [(sv, start) for sv, start in zip(services, starts, strict=True)
                     if start <= period and (sv.billed_through is None or period <= sv.billed_through)]
            if lines:
                made += await self._issue(org_id, period, [sv for sv, _ in lines], now)
            period = _next_month(period)
        return made

    async def _issue(self, org_id: int, period: date, services: list[Service], now: datetime) -> int:
        issued_at = rules.wall_clock(self.policy, period, time(0, 0))
        async with self.db.write() as s:
            ins = upsert_insert(s, Invoice).values(org_id=org_id, period_start=period, issued_at=issued_at)
            created = (await s.execute(ins.on_conflict_do_nothing().returning(Invoice.id))).scalar_one_or_none()
            inv_id = created or (await s.execute(select(Invoice.id).where(
                Invoice.org_id == org_id, Invoice.period_start == period))).scalar_one()
            for sv in services:
                await s.execute(upsert_insert(s, InvoiceLine).values(
                    invoice_id=inv_id, kind="service", service_id=sv.id, cents=sv.monthly_cents, created_at=now,
                    description=f"{sv.name}, {period.strftime('%B %Y')}", dedupe_key=f"inv:{inv_id}:service:{sv.id}",
                ).on_conflict_do_nothing())
        if created:
            total = sum(sv.monthly_cents for sv in services)
            await self._mail_org(org_id, f"invoice:{inv_id}", f"Your invoice for {period.strftime('%B %Y')}",
                                 f"Your invoice for {period.strftime('%B %Y')} is {rules.money(total)}, due today. "
                                 f"{rules.next_deadline(self.policy, period, issued_at, True).message}")  # type: ignore[union-attr]
        return 1 if created else 0

    async def _fees(self, inv: Invoice, view: dict[str, Any], now: datetime) -> tuple[int, int]:
        unpaid = view["amount_due_cents"] > 0
        kinds = {line["kind"] for line in view["lines"]}
        paid_at = None if unpaid else inv.paid_at
        if not unpaid and paid_at is None:
            return 0, 0
        due = rules.fees_due(self.policy, inv.period_start, now, unpaid, kinds, paid_at=paid_at)
        added = 0
        for fee in due:
            words = "Late fee" if fee.kind is rules.FeeKind.LATE_FEE else "Reconnection fee"
            async with self.db.write() as s:
                done = await s.execute(upsert_insert(s, InvoiceLine).values(
                    invoice_id=inv.id, kind=fee.kind.value, service_id=None, cents=fee.cents, created_at=now,
                    description=f"{words}, {dates.month(inv.period_start)} invoice unpaid on "
                                f"{dates.moment(fee.due_at, self.policy.tz, year=False, zone=False)}",
                    dedupe_key=f"inv:{inv.id}:{fee.kind.value}",
                ).on_conflict_do_nothing().returning(InvoiceLine.id))
                if done.scalar_one_or_none() is None:
                    continue
                await s.execute(update(Invoice).where(Invoice.id == inv.id).values(paid_at=None))
            added += 1
            if fee.kind is rules.FeeKind.LATE_FEE:
                await self._mail_org(inv.org_id, f"late-fee:{inv.id}", "A late fee was added to your invoice",
                                     f"Your {inv.period_start.strftime('%B %Y')} invoice was still unpaid at 12:01 AM on "
                                     f"the 5th, so a {rules.money(fee.cents)} late fee was added. Pay by 12:01 AM on the "
                                     f"15th to keep your services running.")
        suspended = 0
        if unpaid and rules.should_suspend(self.policy, inv.period_start, now, True):
            suspended = await self._suspend(inv.org_id, now)
        return added, suspended

    async def _suspend(self, org_id: int, now: datetime) -> int:
        async with self.db.write() as s:
            done = await s.execute(update(Organisation).where(Organisation.id == org_id,
                                                              Organisation.suspended_at.is_(None))
                                   .values(suspended_at=now).returning(Organisation.id))
            if done.scalar_one_or_none() is None:
                return 0  # already suspended: by an earlier run or another worker
            await s.execute(update(Service).where(Service.org_id == org_id, Service.status == "active")
                            .values(status="suspended"))
        words = rules.suspension_notice(self.policy)
        self._announce(org_id, "suspended", words)
        await self._mail_org(org_id, f"suspended:{org_id}:{now.date().isoformat()}", "Your services are suspended",
                             words)
        return 1

    async def _remind(self, inv: Invoice, view: dict[str, Any], now: datetime) -> int:
        if view["amount_due_cents"] == 0:
            return 0
        deadline = rules.next_deadline(self.policy, inv.period_start, now, True)
        if deadline is None or deadline.at - now > REMIND_BEFORE:
            return 0
        sent = await self._mail_org(inv.org_id, f"remind:{inv.id}:{deadline.kind}", "A payment reminder",
                                    f"{rules.money(view['amount_due_cents'])} is due on your "
                                    f"{inv.period_start.strftime('%B %Y')} invoice. {deadline.message}")
        return 1 if sent else 0

    # -- notices -----------------------------------------------------------------------------

    def _announce(self, org_id: int, standing: str, message: str) -> None:
        """Tell everyone of the organisation who has a page open, at once."""
        if self.hub is not None:
            self.hub.notify(f"org:{org_id}", encode({"type": "billing", "topic": f"org:{org_id}",
                                                     "standing": standing, "message": message}))

    async def _mail_org(self, org_id: int, key: str, subject: str, body: str) -> bool:
        """E-mail the organisation's administrators (or its contacts), once per key."""
        if self.mailer is None:
            return False
        async with self.db.write() as s:
            done = await s.execute(upsert_insert(s, SentNotice).values(key=key[:200], at=self.clock.now())
                                   .on_conflict_do_nothing().returning(SentNotice.id))
            if done.scalar_one_or_none() is None:
                return False  # sent already
            people = list((await s.execute(select(User).where(User.org_id == org_id, User.disabled_at.is_(None))
                                           .order_by(User.role != Role.DOMAIN_ADMIN.value, User.id))).scalars())
        admins = [u for u in people if u.role == Role.DOMAIN_ADMIN.value] or people
        for user in admins:
            await self.mailer.send(user.email, subject, f"Hello {user.name},\n\n{body}\n\nThe billing policy, in "
                                   "plain words: /billing\n")
        return True

