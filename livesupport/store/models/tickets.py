"""Tickets, their events and the huddle around them: assignees, members, tasks, reviews, attachments, feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (  # the ticket list's sorts and filters (store/listing.py, migration 0016)
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_public_updated_at_id", "public_updated_at", "id"),
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_next_update_at_id", "next_update_at", "id"),
        Index("ix_tickets_priority_id", "priority", "id"),
        Index("ix_tickets_org_updated_at_id", "org_id", "updated_at", "id"),
        Index("ix_tickets_org_public_updated_at_id", "org_id", "public_updated_at", "id"),
        Index("ix_tickets_status_updated_at_id", "status", "updated_at", "id"),
        Index("ix_tickets_solved_at", "solved_at"),  # reports: solved per day (migration 0023)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "sla": next_update_at follows the SLA clock; "staff": someone set it and it holds until their next update.
    next_update_source: Mapped[str] = mapped_column(String(10), default="sla", server_default="sla")
    pinned_seq: Mapped[int | None] = mapped_column(Integer)  # the internal note pinned as guidance
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_public_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # what clients can see
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # any change, internal ones too (staff see it)
    public_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the last change clients can see
    # What reports read, kept where events are written (store.tickets.append_kinds; docs/reports.md). *_bh: the
    # desk's business clock at that instant (domain/business_hours.py): business time is a difference of two.
    created_bh: Mapped[int | None] = mapped_column(Integer)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first public message by staff
    first_response_bh: Mapped[int | None] = mapped_column(Integer)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # resolved or closed since; None when open
    solved_bh: Mapped[int | None] = mapped_column(Integer)
    promises_kept: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # "next update by" kept
    promises_missed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # ... and missed

class TicketEvent(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_ticket_seq"),
        Index("ix_ticket_events_ticket_visibility_seq", "ticket_id", "visibility", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The actor as shown at the time (name, role), so history reads without joins.
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)

class Feedback(Base):
    """What someone said through "Give us feedback", and on which page."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    page: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(String(5000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

class TicketAssignee(Base):
    __tablename__ = "ticket_assignees"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

class TicketMember(Base):
    """An engineer pulled into a ticket's huddle."""

    __tablename__ = "ticket_members"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

class Task(Base):
    """A piece of a ticket with its own assignee and state."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default="todo")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(2000))  # staff only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

class TicketReview(Base):
    """How far a person has read a ticket: what is newer is "new to them"."""

    __tablename__ = "ticket_reviews"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

class Attachment(Base):
    """A file sent with a message; the bytes live in the file store under `storage_key`."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # the chat event it belongs to
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
