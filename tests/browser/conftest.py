"""The browser every browser test drives: Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import helpers
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, playwright_api
from tests.conftest import unavailable


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if playwright_api is None:
        unavailable(f"Playwright ({helpers.PLAYWRIGHT_MISSING})")
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium at {CHROMIUM}")
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
