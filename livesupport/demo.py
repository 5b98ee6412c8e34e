"""Demo data: an IT partner, client organisations, contacts, engineers of each level, tickets with history, billing,
a transfer of service under way."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from livesupport.actions.mail import Mailer
from livesupport.actions.passwords import hash_password
from livesupport.actions.transfers import Visitor, transfers_for
from livesupport.clock import Clock
from livesupport.domain.people import Person, Role
from livesupport.settings import Settings
from livesupport.store import huddle as huddle_store
from livesupport.store import people
from livesupport.store import tickets as store
from livesupport.store.database import Database
from livesupport.store.models import Service, Task, Transfer, TransferParty, User

PASSWORD = "demo-password-1"

#: (email, name, role, tier, organisation)
USERS = [
    ("alice@acme.example", "Alice Moreau", Role.CLIENT, None, "Acme Dental"),
    ("bob@acme.example", "Bob Chen", Role.CLIENT, None, "Acme Dental"),
    ("admin@acme.example", "Acme Administrator", Role.DOMAIN_ADMIN, None, "Acme Dental"),
    ("carol@globex.example", "Carol Diaz", Role.CLIENT, None, "Globex Law"),
    ("pat@northwind-it.example", "Pat Okafor", Role.PARTNER, None, "Northwind IT"),
    ("lee@support.example", "Lee Park", Role.STAFF, 1, None),
    ("dana@support.example", "Dana Novak", Role.STAFF, 2, None),
    ("sam@support.example", "Sam Rivera", Role.STAFF, 3, None),
    ("root@support.example", "Support Admin", Role.ADMIN, None, None),
    ("billing@support.example", "Bea Ledger", Role.BILLING, None, None),
]


async def seed(db: Database, clock: Clock) -> list[tuple[str, str, str]]:
    """Create the demo data once; returns (email, password, who) for printing."""
    now = clock.now()
    async with db.write() as s:
        if await people.user_by_email(s, USERS[0][0]) is not None:
            return _logins()
        partner = await people.get_or_create_org(s, "Northwind IT", now, kind="partner")
        acme = await people.get_or_create_org(s, "Acme Dental", now, domain="acme.example", partner_id=partner.id)
        globex = await people.get_or_create_org(s, "Globex Law", now, domain="globex.example",
                                                partner_id=partner.id)
        # Billing: Acme signed up two days ago (free until the next 1st); Globex two months ago and has not paid,
        # so the worker issues its invoices, adds the fees and suspends it as the rules say.
        for customer, service, cents, started in [
            (acme.id, "Mail filtering", 2500, now - timedelta(days=2)),
            (acme.id, "Archiving", 1200, now - timedelta(days=2)),
            (globex.id, "Mail filtering", 2500, now - timedelta(days=62)),
        ]:
            s.add(Service(org_id=customer, name=service, monthly_cents=cents, started_at=started, status="active"))
        orgs = {"Northwind IT": partner.id, "Acme Dental": acme.id}
        hashed = await hash_password(PASSWORD)
        users: dict[str, Person] = {}
        for email, name, role, tier, org in USERS:
            org_id = orgs.get(org) if org else None
            if org and org_id is None:
                org_id = (await people.get_or_create_org(s, org, now)).id
            user = User(email=email, name=name, password_hash=hashed, role=role.value, tier=tier,
                        org_id=org_id, created_at=now)
            s.add(user)
            await s.flush()
            users[email] = people.person_of(user)
        alice, dana, sam = users["alice@acme.example"], users["dana@support.example"], users["sam@support.example"]

        t = await store.create(s, org_id=acme.id, opened_by=alice.id, subject="Outlook keeps asking for my password",
                               priority="high", now=now - timedelta(hours=3))
        for actor, vis, body, ago in [
            (alice, "public", "Since this morning Outlook asks for my password every few minutes.", 180),
            (dana, "public", "Thanks Alice, I'm looking at your mailbox now.", 170),
            (dana, "internal", "Looks like the old app password; Sam, can you check the MFA policy?", 165),
            (sam, "internal", "Legacy auth is blocked for this tenant since yesterday. Needs a new profile.", 150),
        ]:
            await store.append_event(s, t.id, kind="chat", visibility=vis, actor=actor,
                                     data={"body": body, "visibility": vis}, now=now - timedelta(minutes=ago))
        await store.append_event(
            s, t.id, kind="status", visibility="public", actor=dana, now=now - timedelta(minutes=140),
            data={"status": "in_progress", "next_update_at": store.iso(now + timedelta(minutes=40))},
            changes={"status": "in_progress", "next_update_at": now + timedelta(minutes=40)},
        )
        await _huddle(s, t.id, dana, sam, now - timedelta(minutes=130))
        t2 = await store.create(s, org_id=acme.id, opened_by=alice.id, subject="New starter needs a mailbox",
                                priority="normal", now=now - timedelta(minutes=30))
        t2.next_update_at = now + timedelta(hours=3, minutes=30)  # the SLA's 4 hours for a first answer
        await store.append_event(s, t2.id, kind="chat", visibility="public", actor=alice, now=now - timedelta(minutes=30),
                                 data={"body": "Jamie starts on Monday; please set up jamie@acme.example.",
                                       "visibility": "public"})
    return _logins()


async def _huddle(s: Any, ticket_id: int, dana: Person, sam: Person, at: datetime) -> None:
    """Sam joins, both are assigned, the ticket is split into two tasks, and Sam's note is pinned as guidance."""
    staff = await huddle_store.staff_users(s, [dana.id, sam.id])
    await huddle_store.add_member(s, ticket_id, sam.id, dana.id, at)
    await store.append_event(s, ticket_id, kind="member", visibility="public", actor=dana, now=at,
                             data={"user": huddle_store.shown(staff[sam.id]), "change": "invited"})
    await huddle_store.set_assignees(s, ticket_id, [dana.id, sam.id], at)
    await store.append_event(s, ticket_id, kind="assignment", visibility="public", actor=dana, now=at,
                             data={"assignees": [huddle_store.shown(staff[u]) for u in (dana.id, sam.id)],
                                   "added": [dana.id, sam.id], "removed": []})
    for title, who, state, note in [
        ("Confirm the tenant's MFA policy", sam, "done", "Legacy auth blocked on 26 Nov by the security baseline."),
        ("Create a new Outlook profile with Alice", dana, "doing", None),
    ]:
        task = Task(ticket_id=ticket_id, title=title, state=state, assignee_id=who.id, note=note,
                    created_at=at, updated_at=at)
        s.add(task)
        await s.flush()
        views, progress = await huddle_store.task_views(s, ticket_id)
        await store.append_event(s, ticket_id, kind="task", visibility="public", actor=sam, now=at,
                                 data={"change": "created", "task": views[-1], "progress": progress})
    guidance = await huddle_store.pinned(s, ticket_id, 4)
    await store.append_event(s, ticket_id, kind="pin", visibility="internal", actor=sam, now=at,
                             data={"seq": 4, "body": guidance["body"] if guidance else ""}, changes={"pinned_seq": 4})


def _logins() -> list[tuple[str, str, str]]:
    labels = {Role.CLIENT: "client contact", Role.DOMAIN_ADMIN: "domain administrator", Role.PARTNER: "partner",
              Role.ADMIN: "admin", Role.BILLING: "billing staff"}
    out = []
    for email, name, role, tier, org in USERS:
        who = f"Level {tier} engineer" if role is Role.STAFF else labels[role]
        if role is Role.DOMAIN_ADMIN:
            who += " (or sign in with the domain acme.example)"
        out.append((email, PASSWORD, f"{name}, {who}" + (f" at {org}" if org else "")))
    return out


async def seed_transfer(db: Database, clock: Clock, settings: Settings, site_url: str) -> None:
    """A transfer under way, once: Globex Law leaving Northwind IT for a new provider, confirmed by Carol, so the
    staff board has something on it and the partner's and provider's e-mails (with their links) are in the outbox."""
    async with db.read() as s:
        if (await s.execute(select(Transfer.id).limit(1))).first() is not None:
            return
    transfers = transfers_for(settings, db, clock, None, Mailer(db, clock, settings.mail_from, None))
    today = clock.now().astimezone(settings.timezone).date()
    answers: dict[str, Any] = {
        "org_name": "Globex Law", "contact_name": "Carol Diaz", "contact_email": "carol@globex.example",
        "reason": "new_provider", "reason_detail": "We hired Harbor Networks for all our IT.",
        "partner_org_id": None, "partner_name": "Northwind IT", "partner_contact": "Pat Okafor",
        "partner_email": "pat@northwind-it.example", "destination": "partner", "provider_name": "Harbor Networks",
        "provider_contact": "Hugo Reyes", "provider_email": "hugo@harbor-networks.example",
        "services": ["Mail filtering"], "services_other": "", "desired_date": (today + timedelta(days=14)).isoformat(),
    }
    async with db.write() as s:
        globex = await people.get_or_create_org(s, "Globex Law", clock.now())
        northwind = await people.get_or_create_org(s, "Northwind IT", clock.now(), kind="partner")
        answers["partner_org_id"] = northwind.id
        transfer = await transfers.create(s, answers, globex.id, site_url)
    await transfers.after_filing(transfer.id)
    async with db.read() as s:
        requester = (await s.execute(select(TransferParty).where(
            TransferParty.transfer_id == transfer.id, TransferParty.role == "requester"))).scalar_one()
    await transfers.confirm(Visitor(transfer.id, "requester", requester.name, requester.id))
