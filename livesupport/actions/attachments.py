"""Files sent with a message: judged, stored, then announced as a chat event; downloaded by who may see it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from livesupport.actions.tickets import Tickets, to_ev
from livesupport.domain import files as rules
from livesupport.domain import tickets as ticket_rules
from livesupport.domain.errors import BadRequestError, NotFoundError, TooLargeError
from livesupport.domain.numbers import parse_id
from livesupport.domain.people import Person
from livesupport.store import tickets as store
from livesupport.store.files import FileStore
from livesupport.store.models import Attachment

log = logging.getLogger("livesupport.attachments")

MAX_FILES = 10
Judged = tuple[str, bytes, rules.Verdict]


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    data: bytes


def url_of(attachment_id: int, name: str) -> str:
    from urllib.parse import quote

    return f"/attachments/{attachment_id}/{quote(name)}"


class Attachments:
    def __init__(self, tickets: Tickets, files: FileStore, max_bytes: int) -> None:
        self.tickets, self.files, self.max_bytes = tickets, files, max_bytes

    async def send(
        self, person: Person, ticket_id: int, uploads: list[Upload], body: object = None, visibility: object = None,
        reply_to: object = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Check every file first (nothing is stored if one is refused), store them, then post the message."""
        vis = ticket_rules.check_visibility(person, visibility)
        text = "" if body is None or body == "" else ticket_rules.check_body(body)
        parent = None
        if reply_to not in (None, ""):
            parent = parse_id(reply_to)
            if parent is None:
                raise BadRequestError("reply_to must be the seq of a message on this ticket.")
        judged = await self.judge(uploads)
        return await self.send_judged(person, ticket_id, judged, text, vis, parent)

    async def judge(self, uploads: list[Upload]) -> list[Judged]:
        """Every file checked (name, size, what it truly is); raises for the first one refused."""
        if not uploads:
            raise BadRequestError("Choose at least one file to attach.")
        if len(uploads) > MAX_FILES:
            raise TooLargeError(f"At most {MAX_FILES} files at once.")
        judged = []
        for up in uploads:
            name = rules.check_name(up.name)
            rules.check_size(name, len(up.data), self.max_bytes)
            # Looking inside archives can take a moment: off the event loop, so the sockets keep moving.
            judged.append((name, up.data, await asyncio.to_thread(rules.judge, name, up.data)))
        return judged

    async def send_judged(self, person: Person, ticket_id: int, judged: list[Judged], text: str, vis: str,
                          parent: int | None) -> tuple[int, list[dict[str, Any]]]:
        """Store files `judge` accepted and post them as one message."""
        await self.tickets.authorize(person, ticket_id)
        request = self.tickets.chat_request(person, ticket_id, text or "(attachment)", vis, authorized=True,
                                            reply_to=parent)
        keys: list[str] = []
        try:
            for _, data, _ in judged:
                keys.append(await self.files.put(data))
            return await self._post(person, ticket_id, request, text, judged, keys)
        except BaseException:
            for key in keys:  # the message was not stored: leave no orphan files
                try:
                    await self.files.delete(key)
                except Exception as exc:  # noqa: BLE001
                    log.warning("could not remove an unused attachment file: %s", exc)
            raise

    async def _post(self, person: Person, ticket_id: int, request: Any, text: str,
                    judged: list[tuple[str, bytes, rules.Verdict]], keys: list[str]) -> tuple[int, list[dict[str, Any]]]:
        now = self.tickets.clock.now()
        async with self.tickets.writing() as s:
            await self.tickets.may_chat(s, person, request)
            rows = []
            for (name, raw, verdict), key in zip(judged, keys, strict=True):
                row = Attachment(ticket_id=ticket_id, visibility=request.visibility, name=name,
                                 content_type=verdict.content_type, size=len(raw),
                                 sha256=hashlib.sha256(raw).hexdigest(), storage_key=key,
                                 uploaded_by=person.id, created_at=now)
                s.add(row)
                rows.append(row)
            await s.flush()
            shown = [{"id": r.id, "name": r.name, "size": r.size, "type": r.content_type, "url": url_of(r.id, r.name)}
                     for r in rows]
            data: dict[str, Any] = {"body": text, "visibility": request.visibility, "attachments": shown}
            if request.reply_to is not None:
                data["reply_to"] = request.reply_to
            changes = await self.tickets.sla_after_chat(s, person, ticket_id, now) \
                if request.visibility == "public" else None
            if changes is not None:
                data.update(next_update_at=store.iso(changes["next_update_at"]),
                            next_update_source=changes["next_update_source"])
            ev = await store.append_event(s, ticket_id, kind="chat", visibility=request.visibility, actor=person,
                                          data=data, now=now, changes=changes)
            for r in rows:
                r.seq = ev.seq
            published = to_ev(ev)
        await self.tickets.hub.publish_event(ticket_id, published)
        self.tickets.published(person, ticket_id, ev)
        return published.seq, shown

    async def download(self, person: Person, attachment_id: int) -> tuple[Attachment, bytes]:
        """The file, for whoever may see its message; anyone else learns nothing, not even that it exists."""
        async with self.tickets.db.read() as s:
            row = await s.get(Attachment, attachment_id)
            if row is None or row.seq is None or not ticket_rules.may_see(person, row.visibility):
                raise NotFoundError("There is no such file.")
            try:
                await self.tickets.visible(s, person, row.ticket_id)
            except Exception:
                raise NotFoundError("There is no such file.") from None
        return row, await self.files.get(row.storage_key)


