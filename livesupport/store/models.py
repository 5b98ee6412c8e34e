"""The tables, as SQLAlchemy 2 declarative models (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are stored in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="client")  # client | partner | company
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # services suspended for non-payment


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    tier: Mapped[int | None] = mapped_column(Integer)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a removed contact cannot log in
    # TOTP: the shared secret (base32), when enrolment was confirmed, and the last time step used (no replays).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(10), default="api", server_default="api")  # api | session
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # for the idle timeout of sessions


class Ticket(Base):
    __tablename__ = "tickets"

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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; kept only as a hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MagicLink(Base):
    """A single-use sign-in link sent by e-mail; kept only as a hash."""

    __tablename__ = "magic_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(10), default="signin", server_default="signin")  # signin | pin


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


class AppKey(Base):
    """A key another application uses to verify one-time codes (POST /api/otp/verify)."""

    __tablename__ = "app_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthFailure(Base):
    """One failed attempt (a login, a code, a link request), counted per key over a window by every process."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


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


# -- transfer of service --------------------------------------------------------------------


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


# -- notifications ---------------------------------------------------------------------------


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
