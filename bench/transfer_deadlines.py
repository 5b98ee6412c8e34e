"""How long the worker takes over transfer deadlines.

N transfers are filed and confirmed (their e-mails written to the outbox), then the worker's transfer job runs
four times: with nothing due, when every partner is due a reminder, when every partner's deadline has passed
(escalation), and again at that instant (nothing is done twice).

    python bench/transfer_deadlines.py sqlite+aiosqlite:////tmp/bt.db 300
    python bench/transfer_deadlines.py postgresql+asyncpg://postgres@127.0.0.1:5432/<an empty database> 300
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from livesupport import settings as config
from livesupport.actions.mail import Mailer
from livesupport.actions.transfers import Visitor, transfers_for
from livesupport.clock import FixedClock
from livesupport.store.database import Database
from livesupport.store.migrate import upgrade
from livesupport.store.models import TransferParty

FILED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
RUNS = (
    ("nothing due", FILED + timedelta(hours=1)),
    ("every partner reminded", datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),  # the day before the 5th business day ends
    ("every partner escalated", datetime(2026, 12, 2, 12, 0, tzinfo=UTC)),
    ("again: nothing twice", datetime(2026, 12, 2, 12, 0, tzinfo=UTC)),
)


async def main(url: str, count: int) -> None:
    await asyncio.to_thread(upgrade, url)
    settings = config.load({"DATABASE_URL": url, "DATA_DIR": tempfile.mkdtemp(), "SECRET_KEY": "bench"})
    db = Database(url)
    clock = FixedClock(FILED)
    transfers = transfers_for(settings, db, clock, None, Mailer(db, clock, "bench <bench@localhost>"))
    started = time.perf_counter()
    for i in range(count):
        answers = {"org_name": f"Org {i}", "contact_name": "Cleo", "contact_email": f"c{i}@org.test",
                   "reason": "own_it", "partner_org_id": None, "partner_name": "Partner", "partner_contact": "Pat",
                   "partner_email": f"p{i}@partner.test", "destination": "vendor", "services": [],
                   "services_other": "Mail", "desired_date": "2026-12-20"}
        async with db.write() as s:
            transfer = await transfers.create(s, answers, None, "http://bench")
        async with db.read() as s:
            party = (await s.execute(select(TransferParty.id).where(
                TransferParty.transfer_id == transfer.id, TransferParty.role == "requester"))).scalar_one()
        await transfers.confirm(Visitor(transfer.id, "requester", "Cleo", party))
    took = time.perf_counter() - started
    print(f"filed and confirmed {count}: {took:.1f} s ({took / count * 1000:.1f} ms each, with their e-mails)")
    for label, at in RUNS:
        started = time.perf_counter()
        words = await transfers.run_due(at)
        print(f"worker run, {label}: {time.perf_counter() - started:.2f} s ({words})")
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300))
