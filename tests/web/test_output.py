"""What a page sends back: markup a person typed is shown as text, and signed-in pages are never cached."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer
from tests.utils import csrf_of
from tests.web.test_pages import logged_in

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_markup_in_a_ticket_is_shown_as_text(live_server: LiveServer) -> None:
    async with logged_in(live_server) as http:
        token = csrf_of((await http.get("/tickets/new")).text)
        r = await http.post("/tickets/new", data={"subject": f"Subject {MARKUP}", "body": f"Body {MARKUP}",
                                                  "priority": "normal", "csrf": token})
        assert r.status_code == 303, r.text
        page = await http.get(r.headers["location"])
        assert page.status_code == 200
        assert MARKUP not in page.text  # neither the subject nor the message went out as markup
        assert "&lt;script&gt;alert(" in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        listing = await http.get("/tickets")
        assert MARKUP not in listing.text and "Subject &lt;script&gt;" in listing.text


async def test_signed_in_pages_are_not_kept_by_the_browser(live_server: LiveServer) -> None:
    async with logged_in(live_server) as http:
        for path in ("/tickets", "/account", "/tickets/new"):
            r = await http.get(path)
            assert r.status_code == 200 and "no-store" in r.headers["cache-control"], path
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        assert "no-store" in (await anonymous.get("/login")).headers["cache-control"]
