"""Files in the conversation, in a real browser: an upload and its download, and a refused file.

The client attaches a text file to a message; both sides see a link with its name and size, and the
engineer downloads the same bytes. A program renamed to report.pdf is refused in plain words, and
what the client typed stays in the composer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.helpers import expect, log_in, message

LOG = b"10:02 tunnel up\n10:07 tunnel down (peer timeout)\n10:08 tunnel up\n"
# The first bytes of a Windows program: refused by content, whatever the name says.
PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)


async def test_a_file_goes_up_and_comes_down_and_a_program_is_refused(
    browser: Any, live_server: Any, tmp_path: Path
) -> None:
    ticket = await live_server.new_ticket("VPN log attached", "I will send the log.")
    client = await log_in(browser, live_server, "client")
    engineer = await log_in(browser, live_server, "engineer")
    try:
        c, e = client.page, engineer.page
        await client.open_ticket(live_server.url, ticket)
        await engineer.open_ticket(live_server.url, ticket)

        # The client picks a file: it is listed in the composer before it goes.
        await c.fill("#message", "Here is the log from this morning.")
        await c.set_input_files(
            "#attach-input",
            files=[{"name": "vpn-log.txt", "mimeType": "text/plain", "buffer": LOG}],
        )
        await expect(c.locator("#attach-list")).to_contain_text("vpn-log.txt")
        await expect(c.locator("#attach-button")).to_have_text("Add more files")
        await c.click("#send")

        # Uploaded: the composer is clear, the page says so, and the message carries the file.
        await expect(c.locator("#upload-text")).to_have_text("Sent vpn-log.txt.")
        await expect(c.locator("#message")).to_have_value("")
        await expect(c.locator("#attach-list")).to_be_hidden()
        for page in (c, e):
            sent = message(page, "Here is the log from this morning.", "public")
            await expect(sent).to_have_count(1)
            link = sent.locator("a.attachment-link")
            await expect(link).to_contain_text("vpn-log.txt")
            await expect(link.locator(".attachment-size")).to_have_text(f"{len(LOG)} bytes")

        # The engineer downloads exactly what was sent.
        link = message(e, "Here is the log from this morning.").locator("a.attachment-link")
        async with e.expect_download() as info:
            await link.click()
        download = await info.value
        assert download.suggested_filename == "vpn-log.txt"
        saved = tmp_path / "vpn-log.txt"
        await download.save_as(saved)
        assert saved.read_bytes() == LOG

        # A program dressed up as a PDF is refused, plainly; the text and the file stay to be fixed.
        await c.fill("#message", "And the report you asked for.")
        await c.set_input_files(
            "#attach-input",
            files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PROGRAM}],
        )
        await c.click("#send")
        error = c.locator("#composer-error")
        await expect(error).to_be_visible()
        await expect(error).to_have_attribute("data-code", "refused_file")
        await expect(error).to_contain_text(
            re.compile(r"“report\.pdf” was refused: programs, scripts and documents with macros")
        )
        await expect(error).to_contain_text("your text is still here")
        await expect(c.locator("#message")).to_have_value("And the report you asked for.")
        await expect(c.locator("#attach-list")).to_contain_text("report.pdf")
        await expect(message(c, "And the report you asked for.")).to_have_count(0)
        await client.shot("attachment-refused")

        # Removing the file and sending the words alone works as usual.
        await c.get_by_role("button", name="Remove report.pdf").click()
        await expect(c.locator("#attach-list")).to_be_hidden()
        await c.click("#send")
        await expect(message(e, "And the report you asked for.", "public")).to_have_count(1)
        await expect(
            message(e, "And the report you asked for.").locator("a.attachment-link")
        ).to_have_count(0)

        client.assert_clean(allow=("status of 415",))
        engineer.assert_clean()
    finally:
        await client.context.close()
        await engineer.context.close()
