"""Access that ends, ends on open sockets too: re-check the sockets an access change touches.

Membership is checked at join; when what someone may see changes, the hub calls `recheck` on every process.
It reloads the people concerned (one query), gives their sockets the new person (so the fan-out filters for
who they are now), and asks again, with the rules used at join, for every topic they hold. A topic lost is
left with a `left` frame; a socket left with nothing is closed (4403), a disabled account's with 4401.
"""

from __future__ import annotations

import logging

from livesupport.actions.transfers import may_view
from livesupport.domain.errors import ForbiddenError, NotFoundError
from livesupport.domain.people import Person
from livesupport.realtime.access import AccessChange
from livesupport.realtime.frames import encode
from livesupport.web.services import Services

log = logging.getLogger("livesupport.access")

DISABLED, NOTHING_LEFT = 4401, 4403
LEFT = "You no longer have access to this: your account or its organisation changed."


class AccessGuard:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def recheck(self, change: AccessChange) -> None:
        hub = self.svc.hub
        boxes = [box for box in hub.boxes() if box.close_code is None and not box.credential.startswith("party:")
                 and change.touches(box.person.id, box.person.org_id, box.topics)]
        if not boxes:
            return
        try:
            fresh = await self.svc.accounts.people_by_ids({box.person.id for box in boxes})
        except Exception:  # noqa: BLE001 - the database is away: safer to end these sockets than to trust them
            log.exception("re-checking access failed; closing the %d sockets concerned", len(boxes))
            for box in boxes:
                box.close(1013, "Please reconnect.")
            return
        for box in boxes:
            person = fresh.get(box.person.id)
            if person is None:
                box.close(DISABLED, "Your account was disabled; you are signed out.")
                continue
            if person == box.person and person.is_staff:
                continue  # staff see every ticket, list and transfer: nothing to lose, no query to make
            hub.swap_person(box, person)
            lost = [name for name in sorted(box.topics) if not await self.allowed(person, name)]
            for name in lost:
                hub.detach(box, name)
                box.send_nowait(encode({"type": "left", "topic": name, "reason": "access_changed", "message": LEFT}))
            if lost and not box.topics:
                box.close(NOTHING_LEFT, "You no longer have access to what this connection had open.")

    async def allowed(self, person: Person, name: str) -> bool:
        """The same question join asks, for one topic."""
        svc = self.svc
        kind, _, ident = name.partition(":")
        try:
            if kind == "ticket":
                await svc.tickets.authorize(person, int(ident))
            elif kind == "user":
                return name == f"user:{person.id}"
            elif kind in ("transfer", "transfers"):
                return may_view(person)
            else:  # queue, org:<id>
                await svc.lists.authorize(person, name)
        except (ForbiddenError, NotFoundError):
            return False
        return True
