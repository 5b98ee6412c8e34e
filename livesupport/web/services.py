"""What the routes share: settings, storage, the hub and the use cases."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from livesupport.actions.accounts import Accounts
from livesupport.actions.administration import Administration
from livesupport.actions.attachments import Attachments
from livesupport.actions.billing import Billing
from livesupport.actions.client_context import ClientContext
from livesupport.actions.contacts import Contacts
from livesupport.actions.feedback import Feedbacks
from livesupport.actions.following import Following
from livesupport.actions.huddle import Huddle
from livesupport.actions.lists import Lists
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.mail_review import MailReview
from livesupport.actions.outcomes import Outcomes
from livesupport.actions.phone import PhoneSupport
from livesupport.actions.ratings import Ratings
from livesupport.actions.tickets import Tickets
from livesupport.actions.transfer_survey import TransferSurvey
from livesupport.actions.transfers import Transfers
from livesupport.actions.two_factor import TwoFactor
from livesupport.actions.webhooks import Webhooks
from livesupport.clock import Clock
from livesupport.domain.throttle import TokenBuckets
from livesupport.realtime.hub import Hub
from livesupport.settings import Settings
from livesupport.store.database import Database
from livesupport.web.connecting import Connecting


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    hub: Hub
    accounts: Accounts
    tickets: Tickets
    huddle: Huddle
    lists: Lists
    feedback: Feedbacks
    templates: Jinja2Templates
    attachments: Attachments
    mailer: Mailer
    two_factor: TwoFactor
    magic_links: MagicLinks
    contacts: Contacts
    chat_limits: TokenBuckets
    billing: Billing
    phone: PhoneSupport
    transfers: Transfers
    survey: TransferSurvey
    following: Following
    administration: Administration
    webhooks: Webhooks
    context: ClientContext
    mail_review: MailReview
    outcomes: Outcomes
    ratings: Ratings
    connecting: Connecting


def services(conn: HTTPConnection) -> Services:
    return conn.app.state.services  # type: ignore[no-any-return]
