"""The ticket list's badges in a real browser: a badge never wraps inside, and every row lines up alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.helpers import act, log_in, token

DESKTOP_1366 = {"viewport": {"width": 1366, "height": 900}}
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
             "device_scale_factor": 2}

#: (subject, status, priority, overdue): the longest labels next to the shortest
ROWS = [
    ("Scanner rejects every badge at the front desk", "waiting_on_client", "urgent", True),
    ("VPN", "new", "low", False),
    ("Mail to the accountant bounces since Monday morning", "in_progress", "high", True),
    ("Printer", "triage", "normal", False),
]

MEASURE = """(ids) => ids.map((id) => {
  const row = document.querySelector(`#ticket-list > li[data-ticket-id="${id}"]`);
  const box = row.querySelector('.ticket-badges').getBoundingClientRect();
  const badges = [...row.querySelectorAll('.ticket-badges .badge')].map((b) => {
    const r = b.getBoundingClientRect();
    const lineHeight = parseFloat(getComputedStyle(b).lineHeight);
    return {text: b.textContent.trim(), top: r.top, left: r.left, height: r.height, lines: b.getClientRects().length,
            textHeight: b.scrollHeight, lineHeight, nowrap: getComputedStyle(b).whiteSpace};
  });
  return {id, rowTop: row.getBoundingClientRect().top, left: box.left, top: box.top - row.getBoundingClientRect().top,
          badges};
})"""


@pytest.mark.parametrize(("who", "options", "name"), [("engineer", DESKTOP_1366, "desktop"),
                                                      ("client", PHONE_390, "phone")])
async def test_badges_never_wrap_and_rows_line_up(browser: Any, live_server: Any, who: str,
                                                  options: dict[str, Any], name: str) -> None:
    ids = []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for subject, status, priority, overdue in ROWS:
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            r = await http.post("/api/tickets", json={"subject": subject, "body": "Please help.", "priority": priority},
                                headers={"Authorization": f"Bearer {await token(live_server, 'client')}"})
        assert r.status_code == 201, r.text
        ticket = int(r.json()["id"])
        frame: dict[str, Any] = {"type": "status", "topic": f"ticket:{ticket}", "status": status}
        if overdue:
            frame["next_update_at"] = past
        await act(live_server, "engineer", frame)
        ids.append(ticket)
    person = await log_in(browser, live_server, who, options)
    try:
        page = person.page
        await page.wait_for_selector(f'#ticket-list > li[data-ticket-id="{ids[0]}"] .overdue-badge')
        await person.shot(f"ticket-list-badges-{name}")
        rows = await page.evaluate(MEASURE, ids)
        for row in rows:
            for badge in row["badges"]:
                assert badge["nowrap"] == "nowrap", badge
                assert badge["height"] <= 30, f"a badge wraps inside: {badge}"
            tops = {round(b["top"]) for b in row["badges"]}
            assert len(tops) == 1, f"the badges of #{row['id']} break onto {len(tops)} lines: {row['badges']}"
        lefts = {round(r["left"]) for r in rows}
        assert len(lefts) == 1, f"the badge columns do not line up: {[(r['id'], r['left']) for r in rows]}"
        firsts = {round(r["badges"][0]["left"]) for r in rows}
        assert len(firsts) == 1, f"the status badges do not line up: {rows}"
        width = await page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= options["viewport"]["width"], f"the list is {width}px wide"
        person.assert_clean()
    finally:
        await person.context.close()
