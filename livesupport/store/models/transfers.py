"""Transfer of service: survey drafts, transfers, their parties, milestones, the waiver and the history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class TransferDraft(Base):
    """A survey being filled in: answers kept between steps, resumable from a link (kept only as a hash)."""

    __tablename__ = "transfer_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    step: Mapped[int] = mapped_column(Integer, default=1)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    transfer_id: Mapped[int | None] = mapped_column(Integer)  # set once, on submission: a second submit finds it

class Transfer(Base):
    """A client's move of service away from its current partner, through milestones with deadlines."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # unconfirmed | open | completed | cancelled
    reason: Mapped[str] = mapped_column(String(20))
    reason_detail: Mapped[str] = mapped_column(String(1000), default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(20))  # partner | vendor
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    desired_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # waiting on staff since
    escalation: Mapped[str] = mapped_column(String(500), default="")  # why, in words
    site_url: Mapped[str] = mapped_column(String(300))  # the address it was filed at: for links in later e-mails

class TransferParty(Base):
    """Someone a transfer ties in: the requester, the current partner, the new provider."""

    __tablename__ = "transfer_parties"
    __table_args__ = (UniqueConstraint("transfer_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # requester | current_partner | new_provider
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    org_name: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(40), default="")
    link_version: Mapped[int] = mapped_column(Integer, default=1)  # raised to revoke the links sent so far

class TransferMilestone(Base):
    """One step of a transfer, with its owner and deadline."""

    __tablename__ = "transfer_milestones"
    __table_args__ = (UniqueConstraint("transfer_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirm | partner | provider | move | complete
    position: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(20))  # requester | current_partner | new_provider | staff
    state: Mapped[str] = mapped_column(String(20), index=True)  # pending | active | done | cancelled
    outcome: Mapped[str] = mapped_column(String(20), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(2000), default="")

class TransferWaiver(Base):
    """The current partner's e-signature. Written once; the database refuses any change (see migration 0007)."""

    __tablename__ = "transfer_waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("transfer_parties.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column(Boolean)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    text_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(10000))

class TransferEvent(Base):
    """A transfer's history: every step, by whom, when. Staff-only entries never reach the parties."""

    __tablename__ = "transfer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(String(2000))
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
