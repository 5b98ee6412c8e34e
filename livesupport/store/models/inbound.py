"""E-mail that came in: each message once (by Message-ID), what became of it; the reply addresses' keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class InboundMail(Base):
    """One received e-mail. The unique Message-ID makes a message stored twice (LMTP retried, IMAP polled
    again, two workers) one row and one event. The raw message is kept in the file store (`storage_key`) while
    it waits for review, so staff can still open it as a ticket."""

    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    from_addr: Mapped[str] = mapped_column(String(320), index=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(String(20000), default="")  # the new text, quotes and signature removed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    via: Mapped[str] = mapped_column(String(10))  # lmtp | imap
    # posted | opened | held | dropped | discarded | attached
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))  # why held or dropped (domain.inbound_rules.REASONS)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    seq: Mapped[int | None] = mapped_column(Integer)  # the chat event it became
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # who sent it, known
    storage_key: Mapped[str | None] = mapped_column(String(100))  # the raw message, while held
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReplyKey(Base):
    """The generation of one person's reply addresses for one ticket: revoking moves it on."""

    __tablename__ = "mail_reply_keys"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
