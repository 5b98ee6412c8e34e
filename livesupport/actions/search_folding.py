"""Folding recent search rows into their tickets' documents (PostgreSQL, migration 0027), off the write path.

A message's write inserts its text as a small row of its own (searchable at once); every `serve` process folds those
rows into the ticket's document about once a second, each ticket in a transaction of its own. So a busy ticket's
document (up to 60,000 characters and its vectors) is rewritten about once a second instead of on every message.
Several processes fold at once without harm: each ticket is folded by one of them at a time.
"""

from __future__ import annotations

import asyncio
import logging

from livesupport.store import search
from livesupport.store.database import Database

log = logging.getLogger("livesupport.search")

#: Seconds between passes: how long a busy ticket's text waits in recent rows, and how often its document is
#: rewritten. Searches find the text either way.
FOLD_EVERY = 1.0


class SearchFolding:
    def __init__(self, db: Database, every: float = FOLD_EVERY) -> None:
        self.db, self.every = db, every

    async def fold_all(self) -> int:
        """One pass: every ticket with recent rows, as far as `search.FOLD_ROWS` each. Returns the rows moved."""
        async with self.db.read() as s:
            tickets = await search.recent_tickets(s)
        moved = 0
        for ticket_id in tickets:
            async with self.db.write() as s:
                moved += await search.fold_recent(s, ticket_id)
        return moved

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.fold_all()
            except Exception as exc:  # noqa: BLE001 - the next pass tries again; nothing is lost meanwhile
                log.warning("folding search rows failed: %s", exc)
