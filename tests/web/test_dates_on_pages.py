"""One format for every day and time a page shows (livesupport.domain.dates), feedback's list included."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conftest import Deployment
from tests.utils import Server, csrf_of, signed_in


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]

#: "Dec 3, 2026, 9:12 AM EST": the product's one format, in the company's zone (America/New_York by default)
ONE_FORMAT = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M E[SD]T$")
TIME = re.compile(r"<time [^>]*datetime=\"([^\"]+)\"[^>]*>([^<]*)</time>")


async def test_the_feedback_list_shows_times_as_the_rest_of_the_product(server: Server, d: Deployment) -> None:
    words = f"The list was hard to read {secrets.token_hex(3)}"
    async with signed_in(server, d.users["client"]["email"]) as client:
        form = await client.get("/feedback", params={"page": "/tickets"})
        sent = await client.post("/feedback", data={"page": "/tickets", "body": words, "csrf": csrf_of(form.text)})
        assert sent.status_code == 200
    async with signed_in(server, d.users["admin"]["email"]) as admin:
        page = (await admin.get("/feedback/all")).text
        tickets = (await admin.get("/tickets")).text
    item = page[page.index(words) - 600:page.index(words)]
    stamp = TIME.findall(item)[-1]
    assert ONE_FORMAT.match(stamp[1]), f"the feedback list shows {stamp[1]!r}"
    assert 'data-local="datetime"' in item  # and the browser puts it in the viewer's zone, in the same format
    for instant, shown in TIME.findall(page) + TIME.findall(tickets):
        assert ONE_FORMAT.match(shown), f"{shown!r} (for {instant}) is not in the product's format"


async def test_billing_and_the_phone_console_write_times_alike(server: Server, d: Deployment) -> None:
    async with signed_in(server, d.users["phone"]["email"]) as http:
        policy = (await http.get("/billing")).text
    for stamp in re.findall(r"\b\d{1,2}:\d{2}(?::\d{2})?(?: [AP]M)?\b", policy):
        assert stamp.endswith(("AM", "PM")), f"{stamp!r} on the billing policy page is not in the product's format"
