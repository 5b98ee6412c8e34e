"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1, keeping every message it receives."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """Every message the SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    async def wait_for(self, to: str, subject_has: str, timeout: float = 10) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if m["To"] == to and subject_has in m["Subject"]:
                    self.messages.remove(m)
                    return m
            await asyncio.sleep(0.05)
        raise AssertionError(f"no mail to {to} about {subject_has!r}; have {[m['Subject'] for m in self.messages]}")

    async def delivered_by(self, before: int, worker_output: str, timeout: float = 10) -> list[Message]:
        """What a `livesupport worker --once` run delivered here: the "e-mails delivered N" it printed, once all
        N arrived after the first `before` messages (and no more than N did)."""
        said = re.search(r"e-mails delivered (\d+)", worker_output)
        assert said, worker_output
        count, deadline = int(said.group(1)), time.monotonic() + timeout
        while len(self.messages) - before < count:
            assert time.monotonic() < deadline, f"{len(self.messages) - before} of the {count} e-mails arrived"
            await asyncio.sleep(0.05)
        assert len(self.messages) - before == count, "more e-mails arrived than the worker delivered"
        return self.messages[before:]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def about(self, address: str, subject_has: str) -> list[Message]:
        return [m for m in self.to(address) if subject_has in m["Subject"]]


def body_of(mail: Message) -> str:
    return mail.get_payload(decode=True).decode()  # type: ignore[union-attr]


@contextmanager
def smtp_server(inbox: Inbox, port: int) -> Iterator[Controller]:
    """aiosmtpd listening on 127.0.0.1:`port` until the block ends."""
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
