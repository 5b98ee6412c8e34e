"""The scheduled jobs: monthly invoices, the 5th's fees, the 15th's suspensions, reminders, mail that waits.

`livesupport worker` runs them in a process of its own (the Procfile's `worker:` line); on one machine
`livesupport serve` runs them itself. Every job is safe to run twice, or in two workers at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from livesupport.actions.billing import Billing
from livesupport.actions.mail import Mailer

log = logging.getLogger("livesupport.worker")


async def run_once(billing: Billing, mailer: Mailer | None, now: datetime | None = None) -> str:
    report = await billing.run_due(now)
    sent = await mailer.deliver_pending() if mailer is not None else 0
    words = (f"invoices issued {report.invoices}, fees added {report.fees}, organisations suspended "
             f"{report.suspended}, reminders {report.reminders}, e-mails delivered {sent}")
    log.info("worker run at %s: %s", (now or billing.clock.now()).isoformat(), words)
    return words


async def run_worker(billing: Billing, mailer: Mailer | None, interval: float) -> None:
    """Run what is due now, then again every `interval` seconds; a failed run is logged and retried."""
    while True:
        try:
            await run_once(billing, mailer)
        except Exception:  # noqa: BLE001 - the next run catches up: every job looks at what is due by now
            log.exception("a worker run failed; trying again in %.0f s", interval)
        await asyncio.sleep(interval)
