"""The mail pipeline as the settings describe it."""

from __future__ import annotations

from livesupport.actions.inbound_mail import Mailbox, MailConfig
from livesupport.actions.tickets import Tickets
from livesupport.settings import Settings
from livesupport.store.files import LocalFiles


def mailbox_for(settings: Settings, tickets: Tickets) -> Mailbox:
    return Mailbox(tickets, LocalFiles(settings.data_dir / "attachments"), MailConfig(
        settings.mail_from, settings.mail_in_domain, settings.secret_key, settings.max_attachment_bytes,
        rate=settings.mail_in_rate, burst=settings.mail_in_burst))
