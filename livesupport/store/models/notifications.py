"""Notifications: who follows what, how they want e-mail, and how far each was told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class TicketFollower(Base):
    """Someone's own choice about a ticket: following it (or added by staff), or muted ("unfollow")."""

    __tablename__ = "ticket_followers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(10))  # follow | added
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # unfollowed: stays off
    at: Mapped[datetime] = mapped_column(UTCDateTime())

class NotificationPref(Base):
    """How a person wants e-mail about the tickets they follow (no row: immediately, digest at 08:00)."""

    __tablename__ = "notification_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))  # immediate | daily | off
    digest_hour: Mapped[int] = mapped_column(Integer, default=8, server_default="8")  # in the company time zone
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

class NotificationCursor(Base):
    """How far one follower of one ticket has been told (by e-mail, by reading, by watching live)."""

    __tablename__ = "notification_cursors"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    told_seq: Mapped[int] = mapped_column(Integer)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # first untold update
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

class JobCursor(Base):
    """Where a worker job got to: the last ticket event scanned, or the last instant checked."""

    __tablename__ = "job_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    at: Mapped[datetime | None] = mapped_column(UTCDateTime())
