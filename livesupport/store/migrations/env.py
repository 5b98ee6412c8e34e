"""Alembic environment: runs the migrations over the app's own async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from livesupport.store.database import Database
from livesupport.store.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    db = Database(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(run)
            await conn.commit()
    finally:
        await db.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(main())
