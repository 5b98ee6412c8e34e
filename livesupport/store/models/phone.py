"""Phone support: PINs, verified callers and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class SupportPin(Base):
    """A contact's phone-support PIN, encrypted with a key derived from SECRET_KEY so its owner can see it."""

    __tablename__ = "support_pins"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    pin_encrypted: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

class PhoneVerification(Base):
    """A caller verified by a member of staff: good for 30 minutes of PIN-only help."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

class PhoneAudit(Base):
    """Every verification attempt and every action taken by phone: who, for whom, when, what, and how it went."""

    __tablename__ = "phone_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    caller_email: Mapped[str] = mapped_column(String(320), index=True)  # as the caller gave it
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # verify, open_ticket, email_invoice, ...
    result: Mapped[str] = mapped_column(String(20))  # ok, no_match, locked, refused, ...
    detail: Mapped[str] = mapped_column(String(500), default="")
