"""A real desk for e-mail in: a server and `livesupport mail-in` on one database and one Redis."""

from __future__ import annotations

import asyncio
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from livesupport.actions.reply_tokens import ReplyToken, ReplyTokens
from livesupport.store.database import Database
from livesupport.store.models import InboundMail
from tests.conftest import Deployment
from tests.utils import ROOT, Server, free_port, run_server

CORPUS = Path(__file__).parent.parent / "fixtures" / "mail"
MAIL_FROM = "Support <support@support.test>"


def corpus(name: str, ticket: int, sender: str, to: str, n: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for key, value in {"TICKET": str(ticket), "FROM_ADDR": sender, "TO": to, "N": n}.items():
        raw = raw.replace(f"@@{key}@@".encode(), value.encode())
    return raw


def reply_address(d: Deployment, ticket_id: int, who: str, generation: int = 0) -> str:
    token = ReplyTokens("test-secret-key").sign(ReplyToken(ticket_id, d.users[who]["id"], generation))
    return f"support+{token}@support.test"


@dataclass
class MailDesk:
    server: Server
    d: Deployment
    lmtp_port: int

    def deliver(self, raw: bytes, sender: str, *recipients: str) -> dict[str, tuple[int, bytes]]:
        """Deliver by LMTP, as Postfix does; the answer for each recipient ({} when every one was taken)."""
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30) as lmtp:
            try:
                return lmtp.sendmail(sender, list(recipients), raw)  # type: ignore[return-value]
            except smtplib.SMTPRecipientsRefused as exc:
                return exc.recipients  # type: ignore[return-value]

    async def inbound(self, message_id: str) -> InboundMail | None:
        db = Database(self.d.database_url)
        try:
            async with db.read() as s:
                return (await s.execute(select(InboundMail).where(InboundMail.message_id == message_id))
                        ).scalar_one_or_none()
        finally:
            await db.dispose()


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mail-in exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mail-in did not listen: {log.read_text()}")


@asynccontextmanager
async def mail_in(env: dict[str, str], port: int) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`livesupport mail-in --lmtp 127.0.0.1:port` as its own process, stopped at the end."""
    log = Path(tempfile.mkstemp(prefix="livesupport-mail-in-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "livesupport", "mail-in", "--lmtp", f"127.0.0.1:{port}"],
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        await asyncio.to_thread(wait_listening, port, proc, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def mail_desk(d: Deployment, redis_url: tuple[str, str], **extra: str) -> AsyncIterator[MailDesk]:
    url, prefix = redis_url
    env = d.env(REDIS_URL=url, REDIS_PREFIX=prefix, MAIL_FROM=MAIL_FROM, CHAT_RATE="0", **extra)
    port = free_port()
    async with run_server(env) as srv, mail_in(env, port):
        srv.deployment = d  # type: ignore[attr-defined]
        yield MailDesk(srv, d, port)
