"""The models and the migrations describe the same schema, on SQLite and PostgreSQL: a migrated database compared
with the models (Alembic's autogenerate) shows no difference. The search index is the one table kept outside the
models on purpose (store/search.py: each database has its own kind of table under that name)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from livesupport.store.models import Base
from tests.conftest import Deployment


def _search_index(difference: Any) -> bool:
    kind, thing = difference[0], difference[1]
    table = thing.name if kind == "remove_table" else getattr(thing.table, "name", "")
    return isinstance(difference, tuple) and kind in ("remove_table", "remove_index") \
        and table.startswith("ticket_search")


def _differences(connection: Any) -> list[Any]:
    found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in found if not _search_index(d)]


async def test_migrations_make_the_schema_the_models_describe(deployment: Deployment) -> None:
    engine = create_async_engine(deployment.database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []
