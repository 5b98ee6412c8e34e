"""The tables, as SQLAlchemy 2 declarative models (SQLite and PostgreSQL alike), one module per area.

Everything is importable from here, so `from livesupport.store.models import Ticket` works whichever module a
model lives in, and importing this package registers every table on `Base.metadata` (Alembic reads it).
"""

from livesupport.store.models.base import Base, UTCDateTime
from livesupport.store.models.billing import Invoice, InvoiceLine, Payment, SentNotice, Service
from livesupport.store.models.inbound import InboundMail, ReplyKey
from livesupport.store.models.macros import Macro
from livesupport.store.models.mail import OutboxEmail
from livesupport.store.models.notifications import (
    JobCursor,
    NotificationCursor,
    NotificationPref,
    TicketFollower,
)
from livesupport.store.models.people import (
    AccountAudit,
    ApiToken,
    AppKey,
    AuthFailure,
    ContactInvitation,
    MagicLink,
    Organisation,
    RecoveryCode,
    User,
)
from livesupport.store.models.phone import PhoneAudit, PhoneVerification, SupportPin
from livesupport.store.models.ratings import TicketRating
from livesupport.store.models.tickets import (
    Attachment,
    Feedback,
    Task,
    Ticket,
    TicketAssignee,
    TicketEvent,
    TicketMember,
    TicketReview,
)
from livesupport.store.models.transfers import (
    Transfer,
    TransferDraft,
    TransferEvent,
    TransferMilestone,
    TransferParty,
    TransferWaiver,
)
from livesupport.store.models.views import SavedView
from livesupport.store.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccountAudit",
    "ApiToken",
    "AppKey",
    "Attachment",
    "ContactInvitation",
    "AuthFailure",
    "Base",
    "Feedback",
    "InboundMail",
    "Invoice",
    "InvoiceLine",
    "JobCursor",
    "Macro",
    "MagicLink",
    "NotificationCursor",
    "NotificationPref",
    "Organisation",
    "OutboxEmail",
    "Payment",
    "PhoneAudit",
    "PhoneVerification",
    "RecoveryCode",
    "ReplyKey",
    "SavedView",
    "SentNotice",
    "Service",
    "SupportPin",
    "Task",
    "Ticket",
    "TicketAssignee",
    "TicketEvent",
    "TicketFollower",
    "TicketMember",
    "TicketRating",
    "TicketReview",
    "Transfer",
    "TransferDraft",
    "TransferEvent",
    "TransferMilestone",
    "TransferParty",
    "TransferWaiver",
    "UTCDateTime",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
