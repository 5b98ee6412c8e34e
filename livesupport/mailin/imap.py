"""IMAP_URL: the worker reads a mailbox (for teams on hosted mail) into the mail pipeline.

It reads the unseen messages (BODY.PEEK, so reading marks nothing), hands each to the pipeline and sets
\\Seen only after the pipeline returned (stored, held, dropped or known already): a crash in between leaves
the message unseen, and the next pass (or another worker) hands it over again, which the Message-ID makes
harmless. A deferred one (its sender over the rate) stays unseen for a later pass. Then it waits with IDLE
where the server offers it, or polls.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aioimaplib

from livesupport.actions.inbound_mail import Mailbox
from livesupport.domain.numbers import ascii_digits

log = logging.getLogger("livesupport.imap")

BATCH = 200  # messages read per pass
IDLE_SECONDS = 25 * 60  # servers end IDLE after 30 minutes


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> ImapSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError("IMAP_URL looks like imaps://user:password@host/INBOX")
        tls = parts.scheme == "imaps"
        return cls(parts.hostname, parts.port or (993 if tls else 143), tls, unquote(parts.username),
                   unquote(parts.password or ""), unquote(parts.path.lstrip("/")) or "INBOX")


class ImapPoller:
    def __init__(self, url: str, mailbox: Mailbox) -> None:
        self.settings, self.mailbox = ImapSettings.parse(url), mailbox

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        client = aioimaplib.IMAP4_SSL(s.host, s.port) if s.tls else aioimaplib.IMAP4(s.host, s.port)
        await client.wait_hello_from_server()
        if (await client.login(s.user, s.password)).result != "OK":
            raise ConnectionError(f"IMAP login as {s.user} at {s.host} was refused")
        if (await client.select(s.folder)).result != "OK":
            raise ConnectionError(f"IMAP folder {s.folder!r} could not be opened")
        return client

    async def run_once(self) -> int:
        """One pass: every unseen message handed over; returns how many were marked done."""
        client = await self._connect()
        try:
            return await self._drain(client)
        finally:
            await _logout(client)

    async def run_forever(self, interval: float) -> None:
        """Read, then wait for news (IDLE) or the interval; reconnect after a failure."""
        while True:
            client = None
            try:
                client = await self._connect()
                while True:
                    await self._drain(client)
                    if client.has_capability("IDLE"):
                        await self._idle(client, interval)
                    else:
                        await asyncio.sleep(interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the server went away: try again after a pause
                log.warning("IMAP: %s; trying again in %.0f s", exc, interval)
                await asyncio.sleep(interval)
            finally:
                if client is not None:
                    await _logout(client)

    async def _idle(self, client: aioimaplib.IMAP4, interval: float) -> None:
        idle = await client.idle_start(timeout=IDLE_SECONDS)
        try:
            while client.has_pending_idle():
                pushed = await client.wait_server_push(timeout=max(interval, 60))
                if any(b"EXISTS" in line for line in pushed if isinstance(line, bytes)) or pushed == "STOP_WAIT_SERVER_PUSH":
                    break
        except TimeoutError:
            pass
        finally:
            client.idle_done()
            await asyncio.wait_for(idle, 10)

    async def _drain(self, client: aioimaplib.IMAP4) -> int:
        """Passes until a search finds nothing new; returns how many were marked done.

        A message that arrives while another is fetched or marked is announced (EXISTS) during a command that
        aioimaplib does not hand back, and IDLE will not announce it again: only a fresh search finds it. The
        ones already tried (the deferred stay unseen) are not fetched twice.
        """
        tried: set[str] = set()
        done = 0
        while True:
            new = [uid for uid in await self._unseen(client) if uid not in tried][:BATCH]
            if not new:
                return done
            tried.update(new)
            done += await self._hand_over(client, new)

    async def _unseen(self, client: aioimaplib.IMAP4) -> list[str]:
        found = await client.uid_search("UNSEEN")
        if found.result != "OK":
            raise ConnectionError("IMAP search failed")
        # aioimaplib hands back "4 7" (the SEARCH answer without its name) among any news the server sends with
        # it: "2 EXISTS" counts messages and is no uid, so the answer is the line of numbers only.
        for line in found.lines[:-1]:
            words = bytes(line).decode("ascii", "replace").split()
            if all(ascii_digits(w) for w in words):
                return words
        return []

    async def _hand_over(self, client: aioimaplib.IMAP4, uids: list[str]) -> int:
        done = 0
        for uid in uids:
            fetched = await client.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((bytes(line) for line in fetched.lines if isinstance(line, bytearray)), None)
            if fetched.result != "OK" or raw is None:
                continue
            result = await self.mailbox.receive(raw, "imap")  # stored (or known) before it is marked done
            if result.status == "deferred":
                continue
            marked = await client.uid("store", uid, "+FLAGS.SILENT", r"(\Seen)")
            if marked.result == "OK":
                done += 1
        return done


async def _logout(client: aioimaplib.IMAP4) -> None:
    try:
        await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 - already gone
        pass


def safe_url(url: str) -> str:
    """IMAP_URL without its password, for the logs."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
