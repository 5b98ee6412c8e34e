"""Satisfaction: how a ticket's client rated the help they got ("How did we do?"), one rating per ticket.

A contact may change it for a while after the ticket was resolved; the latest counts, whoever of the ticket's
contacts gave it (domain: issue 19). Reports read `score` and `updated_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from livesupport.store.models.base import Base, UTCDateTime


class TicketRating(Base):
    __tablename__ = "ticket_ratings"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))  # who gave it last
    score: Mapped[str] = mapped_column(String(4))  # "good" or "bad"
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the first rating
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the latest change: reports count it
