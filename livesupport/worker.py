"""The scheduled jobs: monthly invoices, the 5th's fees, the 15th's suspensions, reminders, e-mail to
followers who were away (and their daily digests), overdue notices to staff, webhooks, mail that waits.

`livesupport worker` runs them in a process of its own (the Procfile's `worker:` line); on one machine
`livesupport serve` runs them itself. Every job is safe to run twice, or in two workers at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from livesupport.actions.billing import Billing
from livesupport.actions.mail import Mailer
from livesupport.actions.outcomes import Outcomes
from livesupport.actions.ratings import Ratings
from livesupport.actions.reply_tokens import TicketThreads
from livesupport.actions.tickets import Tickets
from livesupport.actions.update_mail import UpdateMail, Watchers
from livesupport.actions.webhook_delivery import WebhookDeliveries
from livesupport.actions.webhooks import secret_cipher
from livesupport.clock import Clock
from livesupport.mailin.imap import ImapPoller
from livesupport.mailin.setup import mailbox_for
from livesupport.settings import Settings
from livesupport.store.database import Database

log = logging.getLogger("livesupport.worker")

# A job does what is due by `now` (the clock's now when None) and says what it did, in words.
Job = Callable[[datetime | None], Awaitable[str]]


def billing_job(billing: Billing) -> Job:
    async def run(now: datetime | None) -> str:
        report = await billing.run_due(now)
        return (f"invoices issued {report.invoices}, fees added {report.fees}, organisations suspended "
                f"{report.suspended}, reminders {report.reminders}")
    return run


def update_mail_job(settings: Settings, db: Database, clock: Clock, mailer: Mailer,
                    watchers: Watchers | None) -> UpdateMail:
    return UpdateMail(db, clock, mailer, tz=settings.timezone,
                      window=timedelta(minutes=settings.notify_coalesce_minutes), secret_key=settings.secret_key,
                      base_url=settings.base_url, watchers=watchers, mail_in_domain=settings.mail_in_domain)


def outcomes_for(settings: Settings, tickets: Tickets, mailer: Mailer) -> Outcomes:
    """Reopening, the satisfaction question (asked as a ticket is resolved, whatever resolves it) and the
    closing rules of the worker's `Outcomes.run`."""
    threads = TicketThreads(settings.secret_key, mailer.sender, settings.mail_in_domain)
    ratings = Ratings(tickets, mailer, settings.secret_key, settings.base_url, threads)
    tickets.policy = settings.outcomes
    tickets.on_resolved = ratings.ask
    return Outcomes(tickets, mailer, ratings, settings.outcomes, settings.timezone, settings.base_url)


def webhook_deliveries(settings: Settings, db: Database, clock: Clock, mailer: Mailer) -> WebhookDeliveries:
    return WebhookDeliveries(db, clock, mailer, secret_cipher(settings.secret_key),
                             allow_local=settings.webhook_allow_local, base_url=settings.base_url)


def imap_poller(settings: Settings, tickets: Tickets) -> ImapPoller | None:
    """IMAP_URL's mailbox, read into the mail pipeline (None when unset)."""
    if not settings.imap_url:
        return None
    return ImapPoller(settings.imap_url, mailbox_for(settings, tickets))


def imap_job(poller: ImapPoller) -> Job:
    """One pass over the mailbox (`worker --once`); the long-running worker waits with IDLE instead."""
    async def run(now: datetime | None) -> str:
        return f"e-mails read from IMAP {await poller.run_once()}"
    return run


async def run_once(jobs: Sequence[Job], mailer: Mailer | None, clock: Clock, now: datetime | None = None) -> str:
    words = [await job(now) for job in jobs]
    sent = await mailer.deliver_pending() if mailer is not None else 0
    words.append(f"e-mails delivered {sent}")
    log.info("worker run at %s: %s", (now or clock.now()).isoformat(), "; ".join(words))
    return "; ".join(words)


async def run_worker(jobs: Sequence[Job], mailer: Mailer | None, clock: Clock, interval: float) -> None:
    """Run what is due now, then again every `interval` seconds; a failed run is logged and retried."""
    while True:
        try:
            await run_once(jobs, mailer, clock)
        except Exception:  # noqa: BLE001 - the next run catches up: every job looks at what is due by now
            log.exception("a worker run failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)
