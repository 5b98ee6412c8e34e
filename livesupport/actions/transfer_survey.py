"""The `/transfer` survey: answers kept step by step in a draft, resumable from a link, filed once.

A draft is found by a random token (kept only as a hash) that lives in the visitor's session and in the
resume link. Going back keeps what was typed; going forward checks the step. Filing checks every step
again, and marks the draft filed in the same transaction: a second submission finds the first transfer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from livesupport.actions.accounts import token_hash
from livesupport.actions.mail import Mailer
from livesupport.actions.throttle import TRANSFER_ADDRESS, Throttle
from livesupport.actions.transfers import Transfers
from livesupport.clock import Clock
from livesupport.domain import transfers as rules
from livesupport.domain.errors import BadRequestError
from livesupport.domain.people import Person, Role
from livesupport.store.database import Database
from livesupport.store.models import Organisation, Service, TransferDraft, User

DRAFT_TTL = timedelta(days=30)


@dataclass
class Draft:
    token: str
    step: int
    answers: dict[str, Any]
    transfer_id: int | None
    org_id: int | None


class DraftGoneError(BadRequestError):
    """An unknown or expired resume link."""


class TransferSurvey:
    def __init__(self, db: Database, clock: Clock, transfers: Transfers, throttle: Throttle, mailer: Mailer,
                 tz: ZoneInfo) -> None:
        self.db, self.clock, self.transfers, self.throttle, self.mailer, self.tz = db, clock, transfers, throttle, mailer, tz

    async def context(self, draft: Draft) -> rules.SurveyContext:
        async with self.db.read() as s:
            partners = dict((await s.execute(select(Organisation.id, Organisation.name).where(
                Organisation.kind == "partner").order_by(Organisation.name))).tuples().all())
            services: list[str] = []
            if draft.org_id is not None:
                services = list((await s.execute(select(Service.name).where(
                    Service.org_id == draft.org_id, Service.status != "cancelled").order_by(Service.name))).scalars())
        return rules.SurveyContext(self.clock.now().astimezone(self.tz).date(), partners, services)

    async def start(self, person: Person | None) -> Draft:
        """A new draft; a signed-in client's organisation and contact details are filled in for them."""
        answers: dict[str, Any] = {}
        org_id = None
        async with self.db.write() as s:
            if person is not None and person.role in (Role.CLIENT, Role.DOMAIN_ADMIN) and person.org_id is not None:
                user = await s.get(User, person.id)
                org = await s.get(Organisation, person.org_id)
                if user is not None and org is not None:
                    org_id = org.id
                    answers = {"org_name": org.name, "contact_name": user.name, "contact_email": user.email}
            token = secrets.token_urlsafe(24)
            now = self.clock.now()
            s.add(TransferDraft(token_hash=token_hash(token), answers={**answers, "_org_id": org_id}, step=1,
                                user_id=person.id if person else None, created_at=now, updated_at=now))
        return Draft(token, 1, answers, None, org_id)

    async def open(self, token: object) -> Draft:
        if not isinstance(token, str) or not token or len(token) > 100:
            raise DraftGoneError("There is no survey to resume at this link.")
        async with self.db.read() as s:
            row = (await s.execute(select(TransferDraft).where(
                TransferDraft.token_hash == token_hash(token)))).scalar_one_or_none()
        if row is None or row.updated_at < self.clock.now() - DRAFT_TTL:
            raise DraftGoneError("This survey link has expired or never existed: saved surveys are kept for 30 "
                                 "days. Start a new one below.")
        answers = dict(row.answers)
        org_id = answers.pop("_org_id", None)
        return Draft(token, row.step, answers, row.transfer_id, org_id)

    async def save(self, draft: Draft, step: int, form: dict[str, Any], move: str) -> dict[str, str]:
        """Keep this step's answers and go where asked: `next` checks them first; `back` and `save` never do."""
        if draft.transfer_id is not None:
            raise BadRequestError("This survey was already filed.")
        if not 1 <= step < rules.LAST_STEP:
            raise BadRequestError("There is no such step in the survey.")
        ctx = await self.context(draft)
        cleaned, errors = rules.check_step(step, form, ctx, draft.answers)
        if move == "next" and not errors:
            draft.step = step + 1
        elif move == "back":
            draft.step = max(1, step - 1)
            errors = {}
        else:
            draft.step = step
        draft.answers.update(cleaned)  # what was typed is kept, right or wrong, so nothing needs typing twice
        await self._store(draft)
        return errors if move == "next" else {}

    async def goto(self, draft: Draft, step: int) -> None:
        """From the review page, back to any step already reached."""
        if 1 <= step <= draft.step and draft.transfer_id is None:
            draft.step = step
            await self._store(draft)

    async def _store(self, draft: Draft) -> None:
        async with self.db.write() as s:
            await s.execute(update(TransferDraft).where(TransferDraft.token_hash == token_hash(draft.token)).values(
                answers={**draft.answers, "_org_id": draft.org_id}, step=draft.step, updated_at=self.clock.now()))

    async def submit(self, draft: Draft, address: str, site_url: str) -> tuple[int, dict[str, str], int]:
        """File the transfer: (transfer id, {}, 0), or (0, errors, the step to fix). Filing twice files once."""
        if draft.transfer_id is not None:
            return draft.transfer_id, {}, 0
        ctx = await self.context(draft)
        wrong = rules.first_incomplete(draft.answers, ctx)
        if wrong is not None:
            draft.step = wrong[0]
            await self._store(draft)
            return 0, wrong[1], wrong[0]
        await self.throttle.check((TRANSFER_ADDRESS, address))
        try:
            async with self.db.write() as s:
                transfer = await self.transfers.create(s, draft.answers, draft.org_id, site_url)
                filed = await s.execute(update(TransferDraft).where(
                    TransferDraft.token_hash == token_hash(draft.token), TransferDraft.transfer_id.is_(None)
                ).values(transfer_id=transfer.id, updated_at=self.clock.now()))
                if filed.rowcount != 1:  # type: ignore[attr-defined]
                    raise _AlreadyFiled()  # rolls the new transfer back
        except _AlreadyFiled:
            existing = await self.filed(draft)
            assert existing is not None
            return existing, {}, 0
        await self.throttle.fail((TRANSFER_ADDRESS, address))
        await self.transfers.after_filing(transfer.id)
        return transfer.id, {}, 0

    async def filed(self, draft: Draft) -> int | None:
        async with self.db.read() as s:
            return (await s.execute(select(TransferDraft.transfer_id).where(
                TransferDraft.token_hash == token_hash(draft.token)))).scalar_one_or_none()

    async def mail_link(self, draft: Draft, address: str, site_url: str) -> str | None:
        """E-mail the resume link to the contact address given in step 1 (when there is a valid one)."""
        email = draft.answers.get("contact_email")
        if not isinstance(email, str) or not rules.EMAIL.match(email):
            return None
        await self.throttle.check((TRANSFER_ADDRESS, address))
        await self.throttle.fail((TRANSFER_ADDRESS, address))
        await self.mailer.send(email, "Your transfer survey, to finish later", (
            f"Hello {draft.answers.get('contact_name') or ''},\n\nYour answers are saved. Carry on where you left off "
            f"with this link (it keeps for 30 days):\n\n{site_url}/transfer/resume/{draft.token}\n\n"
            "Anyone with the link can see and change your answers: don't forward it.\n"),
            secret="a link to a saved survey")
        return email


class _AlreadyFiled(Exception):
    """A second, simultaneous submission of the same draft."""
