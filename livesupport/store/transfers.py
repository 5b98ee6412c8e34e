"""Reading transfers: one with everything about it, and the rows of the staff board."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.clock import iso
from livesupport.domain import transfers as rules
from livesupport.store.models import (
    Transfer,
    TransferEvent,
    TransferMilestone,
    TransferParty,
    TransferWaiver,
)

BOARD_LIMIT = 300
STATE_WORDS = {"unconfirmed": "Waiting for the client to confirm", "open": "In progress",
               "completed": "Completed", "cancelled": "Cancelled"}


@dataclass
class Loaded:
    transfer: Transfer
    parties: dict[str, TransferParty]
    milestones: list[TransferMilestone]
    events: list[TransferEvent] = field(default_factory=list)
    waiver: TransferWaiver | None = None

    def milestone(self, kind: rules.Kind) -> TransferMilestone | None:
        return next((m for m in self.milestones if m.kind == kind), None)


async def load(s: AsyncSession, transfer_id: int, history: bool = False) -> Loaded | None:
    transfer = await s.get(Transfer, transfer_id)
    if transfer is None:
        return None
    parties = {p.role: p for p in (await s.execute(
        select(TransferParty).where(TransferParty.transfer_id == transfer_id))).scalars()}
    milestones = list((await s.execute(select(TransferMilestone).where(
        TransferMilestone.transfer_id == transfer_id).order_by(TransferMilestone.position))).scalars())
    loaded = Loaded(transfer, parties, milestones)
    if history:
        loaded.events = list((await s.execute(select(TransferEvent).where(
            TransferEvent.transfer_id == transfer_id).order_by(TransferEvent.id))).scalars())
        loaded.waiver = (await s.execute(select(TransferWaiver).where(
            TransferWaiver.transfer_id == transfer_id))).scalar_one_or_none()
    return loaded


def as_rule(m: TransferMilestone) -> rules.Milestone:
    return rules.Milestone(rules.Kind(m.kind), m.state, m.due_at, m.reminded_at is not None, m.escalated_at is not None)


def milestone_view(m: TransferMilestone, now: datetime) -> dict[str, Any]:
    return {
        "kind": m.kind, "label": rules.STEP[rules.Kind(m.kind)].label, "owner": m.owner,
        "owner_name": rules.PARTY_NAMES[rules.Party(m.owner)], "state": m.state, "outcome": m.outcome,
        "outcome_label": rules.OUTCOMES.get(m.outcome, ""), "started_at": iso(m.started_at), "due_at": iso(m.due_at),
        "done_at": iso(m.done_at), "overdue": rules.is_overdue(as_rule(m), now),
        "escalated": m.escalated_at is not None,
    }


def view(loaded: Loaded, now: datetime, staff: bool) -> dict[str, Any]:
    """A transfer as a party sees it (no staff-only history, no waiver evidence), or as staff do."""
    t = loaded.transfer
    out: dict[str, Any] = {
        "id": t.id, "state": t.state, "state_label": STATE_WORDS[t.state], "org_name": t.org_name,
        "reason": t.reason, "reason_label": rules.REASONS[rules.Reason(t.reason)], "destination": t.destination,
        "services": list(t.services), "desired_date": t.desired_date.isoformat(), "created_at": iso(t.created_at),
        "closed_at": iso(t.closed_at), "milestones": [milestone_view(m, now) for m in loaded.milestones],
        "parties": {role: {"role": role, "org_name": p.org_name, "name": p.name} for role, p in loaded.parties.items()},
        "overdue": any(rules.is_overdue(as_rule(m), now) for m in loaded.milestones),
        "history": [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "text": e.text, "staff_only": e.staff_only}
                    for e in loaded.events if staff or not e.staff_only],
        "waiver_signed_at": iso(loaded.waiver.signed_at) if loaded.waiver else None,
    }
    if staff:
        out["reason_detail"] = t.reason_detail
        out["org_id"] = t.org_id
        out["escalated_at"], out["escalation"] = iso(t.escalated_at), t.escalation
        for role, p in loaded.parties.items():
            out["parties"][role].update(id=p.id, email=p.email, phone=p.phone, org_id=p.org_id)
        if loaded.waiver is not None:
            w = loaded.waiver
            out["waiver"] = {"full_name": w.full_name, "consent": w.consent, "signed_at": iso(w.signed_at),
                             "client_address": w.client_address, "user_agent": w.user_agent,
                             "text_sha256": w.text_sha256, "text": w.text}
    return out


def board_row(t: Transfer, milestones: list[TransferMilestone], now: datetime) -> dict[str, Any]:
    active = [m for m in milestones if m.state == "active"]
    overdue = any(rules.is_overdue(as_rule(m), now) for m in active)
    next_due = min((m.due_at for m in active if m.due_at is not None), default=None)
    return {
        "id": t.id, "state": t.state, "state_label": STATE_WORDS[t.state], "org_name": t.org_name,
        "reason_label": rules.REASONS[rules.Reason(t.reason)], "desired_date": t.desired_date.isoformat(),
        "waiting_on": [{"label": rules.STEP[rules.Kind(m.kind)].label, "owner": m.owner, "due_at": iso(m.due_at),
                        "overdue": rules.is_overdue(as_rule(m), now)} for m in active],
        "next_due": iso(next_due), "overdue": overdue, "needs_staff": t.escalated_at is not None,
        "escalation": t.escalation, "updated_at": iso(t.updated_at),
        "done": sum(m.state == "done" for m in milestones), "steps": len(milestones),
    }


def board_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Overdue first, then what waits on staff, then the soonest deadline; closed ones last, newest first."""
    closed = row["state"] in ("completed", "cancelled")
    return (closed, not row["overdue"], not row["needs_staff"], row["next_due"] or "~",
            -int(datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00")).timestamp()) if closed else 0)


async def board(s: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    transfers = list((await s.execute(select(Transfer).order_by(Transfer.updated_at.desc()).limit(BOARD_LIMIT))).scalars())
    ids = [t.id for t in transfers]
    by_transfer: dict[int, list[TransferMilestone]] = {i: [] for i in ids}
    if ids:
        for m in (await s.execute(select(TransferMilestone).where(TransferMilestone.transfer_id.in_(ids))
                                  .order_by(TransferMilestone.position))).scalars():
            by_transfer[m.transfer_id].append(m)
    return sorted((board_row(t, by_transfer[t.id], now) for t in transfers), key=board_order)
