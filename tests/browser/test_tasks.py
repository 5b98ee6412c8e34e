"""The task list in a real browser: staff plan and move tasks, the client follows without a reload."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.browser.helpers import LIVE, expect, log_in, user


async def test_a_task_moves_to_done_while_the_client_watches(
    browser: Any, live_server: Any
) -> None:
    ticket = await live_server.new_ticket(
        "Router reboots at night", "The router reboots around 2 am."
    )
    sam = user(live_server, "engineer2")
    client = await log_in(browser, live_server, "client")
    engineer = await log_in(browser, live_server, "engineer")
    try:
        c, e = client.page, engineer.page
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)
        await expect(c.locator("#tasks-progress")).to_have_text("No tasks yet")

        # Clients follow the plan; they cannot change it.
        for staff_only in ("#task-add-toggle", "#task-form", ".task-state-button"):
            await expect(c.locator(staff_only)).to_have_count(0)

        # A Level 2 engineer adds a task for Sam, due tomorrow, with a note for the team.
        due = (datetime.now() + timedelta(days=1)).replace(
            hour=10, minute=30, second=0, microsecond=0
        )
        await e.click("#task-add-toggle")
        await e.fill("#task-title", "Replace the router firmware")
        await e.select_option("#task-assignee", str(sam["id"]))
        await e.fill("#task-due", due.strftime("%Y-%m-%dT%H:%M"))
        await e.fill("#task-note", "Firmware 7.2 bricks this model – STAFF-NOTE-4417")
        await e.click("#task-save")
        await expect(e.locator("#task-form")).to_be_hidden()

        staff_task = e.locator("#tasks li.task").filter(has_text="Replace the router firmware")
        await expect(staff_task).to_contain_text("STAFF-NOTE-4417")
        await expect(staff_task).to_have_attribute("data-state", "todo")

        task = c.locator("#tasks li.task").filter(has_text="Replace the router firmware")
        await expect(task).to_have_count(1)
        await expect(task.locator(".task-assignee")).to_have_text("Sam Senior")
        await expect(task.locator(".task-state-label")).to_have_text("To do")
        await expect(task.locator(".task-due")).to_contain_text("due")
        await expect(c.locator("#tasks-progress")).to_have_text("0 of 1 done")

        # Doing, then done: the client's page follows each move.
        await staff_task.get_by_role("button", name="Doing").click()
        await expect(task).to_have_attribute("data-state", "doing")
        await expect(task.locator(".task-state-label")).to_have_text("Doing")
        await staff_task.get_by_role("button", name="Done").click()
        await expect(staff_task.get_by_role("button", name="Done")).to_have_attribute(
            "aria-pressed", "true"
        )
        await expect(task).to_have_attribute("data-state", "done")
        await expect(c.locator("#tasks-progress")).to_have_text("1 of 1 done")
        await expect(e.locator("#tasks-progress")).to_have_text("1 of 1 done")
        await expect(c.locator("#tasks-bar")).to_have_attribute("value", "1")

        # The staff note never reaches the client, live or after a reload.
        assert "STAFF-NOTE-4417" not in await c.content()
        await client.shot("tasks-client")
        await engineer.shot("tasks-engineer")
        await c.reload()
        await expect(c.locator("#conn-state")).to_have_text(LIVE)
        await expect(c.locator("#tasks-progress")).to_have_text("1 of 1 done")
        await expect(
            c.locator("#tasks li.task").filter(has_text="Replace the router firmware")
        ).to_contain_text("Sam Senior")
        assert "STAFF-NOTE-4417" not in await c.content()

        client.assert_clean()
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()
