"""The use cases against a real database, on SQLite and on PostgreSQL (the `deployment` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from livesupport.store.database import Database
from tests.conftest import Deployment


@pytest.fixture
async def db(deployment: Deployment) -> AsyncIterator[Database]:
    database = Database(deployment.database_url)
    try:
        yield database
    finally:
        await database.dispose()
