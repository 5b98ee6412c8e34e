"""Storing and reading feedback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from livesupport.clock import Clock, iso
from livesupport.domain.errors import ForbiddenError, RateLimitedError
from livesupport.domain.feedback import check_feedback, clean_page
from livesupport.domain.people import Person
from livesupport.domain.throttle import FailureThrottle
from livesupport.store.database import Database
from livesupport.store.models import Feedback, User


class Feedbacks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self._per_address = FailureThrottle(20, 3600)  # counts submissions, not failures

    async def leave(self, person: Person | None, page: object, body: object, address: str) -> None:
        text = check_feedback(body)
        now = self.clock.now()
        wait = self._per_address.retry_after(address, now.timestamp())
        if wait:
            raise RateLimitedError("Thank you, that is a lot of feedback at once; please try again later.", wait)
        async with self.db.write() as s:
            s.add(Feedback(user_id=person.id if person else None, page=clean_page(page), body=text, created_at=now))
        self._per_address.fail(address, now.timestamp())

    async def latest(self, person: Person, limit: int = 200) -> list[dict[str, Any]]:
        if not person.is_staff:
            raise ForbiddenError("Only support staff can read feedback.")
        async with self.db.read() as s:
            rows = await s.execute(
                select(Feedback, User.name).outerjoin(User, User.id == Feedback.user_id)
                .order_by(Feedback.created_at.desc()).limit(limit)
            )
            return [{"page": f.page, "body": f.body, "at": iso(f.created_at), "who": name or "Someone not logged in"}
                    for f, name in rows.all()]
