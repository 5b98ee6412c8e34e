"""Billing: services, invoices and their lines, payments, and the notices that went out."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class Service(Base):
    """A subscription of an organisation, billed monthly on the 1st (free until the first 1st)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    monthly_cents: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | suspended | cancelled
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_waived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    ends_on: Mapped[date | None] = mapped_column(Date)  # the last day of service, once cancelled
    billed_through: Mapped[date | None] = mapped_column(Date)  # the last 1st it is billed for, once cancelled

class Invoice(Base):
    """One organisation's invoice for one month, issued and due on its 1st."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("org_id", "period_start", name="uq_invoices_org_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when it was last paid in full

class InvoiceLine(Base):
    """A line of an invoice: a service's month, or a fee. `dedupe_key` makes every line exist once."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # service | late_fee | reconnection_fee
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    description: Mapped[str] = mapped_column(String(300))
    cents: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

class SentNotice(Base):
    """A notice (an e-mail, a reminder) that went out: the unique key makes each go out once."""

    __tablename__ = "sent_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
