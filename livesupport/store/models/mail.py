"""The outbox: every e-mail the desk sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class OutboxEmail(Base):
    """Every e-mail the desk sends: delivered by SMTP when configured, readable at /outbox otherwise."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(20000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # retries back off; None: at once
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)  # e.g. List-Unsubscribe (RFC 8058)
    # What secret the body holds ("a sign-in link"), said by whoever wrote it: /outbox hides such bodies from
    # admins when mail is delivered by SMTP.
    secret: Mapped[str | None] = mapped_column(String(60))
