"""The "Mail to review" API: staff list held e-mail and open it as a ticket, post it on one, or discard it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.mail_review import MailReview
from livesupport.domain.people import Person
from livesupport.web.api import json_body
from livesupport.web.handlers import json_handler
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.services import services

Act = Callable[[MailReview, Person, Request], Awaitable[Any]]


def _handler(act: Act, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    return json_handler(lambda request: services(request).mail_review, act, status)


def _id(request: Request) -> Any:
    return request.path_params["mail_id"]


async def _list(review: MailReview, person: Person, request: Request) -> Any:
    return {"mails": await review.held(person)}


async def _discard(review: MailReview, person: Person, request: Request) -> Any:
    await review.discard(person, _id(request))


async def _attach(review: MailReview, person: Person, request: Request) -> Any:
    return await review.attach(person, _id(request), (await json_body(request)).get("ticket_id"))


async def _open(review: MailReview, person: Person, request: Request) -> Any:
    body = await json_body(request)
    return await review.open_for_new_contact(person, _id(request), body.get("org_id"), body.get("name"))


async def _revoke(review: MailReview, person: Person, request: Request) -> Any:
    return await review.revoke_reply_address(person, request.path_params["ticket_id"],
                                             (await json_body(request)).get("user_id"))


HELD = s.obj(["id", "from", "from_name", "subject", "body", "received_at", "via", "reason", "why", "ticket_id"],
             id=s.ID, **{"from": s.TEXT}, from_name=s.TEXT, subject=s.TEXT, body=s.TEXT, received_at=s.INSTANT,
             via=s.TEXT, reason=s.nullable(s.TEXT), why=s.TEXT, ticket_id=s.nullable(s.ID))
POSTED = s.obj(["ticket_id", "seq"], ticket_id=s.ID, seq=s.ID)
WHO = ("Staff only: anyone else is refused (403). A held mail is decided once: a second decision answers 409.")


def _described(act: Act, summary: str, words: str, status: int = 200, **more: Any) -> Callable[[Request], Any]:
    more.setdefault("errors", (400, 403, 404, 409))
    return operation(summary=summary, tag="Mail to review", description=f"{words} {WHO}", **more)(
        _handler(act, status))


ONE = "/api/mail-review/{mail_id:id}"
routes = [
    Route("/api/mail-review", _described(
        _list, "List mail held for review",
        "E-mail that came in and was not posted: from an unknown sender, a sender who may not see the ticket it "
        "answers, a failed DMARC check, a revoked reply address, or naming no ticket; newest first, with why.",
        errors=(403,), responses={200: s.obj(["mails"], mails=s.array(HELD))}), methods=["GET"]),
    Route(ONE + "/discard", _described(_discard, "Discard a held mail", "It is not posted; the message is deleted.",
                                       responses={204: None}), methods=["POST"]),
    Route(ONE + "/attach", _described(
        _attach, "Post a held mail on a ticket",
        "Posted as its sender (public, `source: email`), who must have an account that may see that ticket.",
        body=s.obj(["ticket_id"], ticket_id=s.ID), responses={200: POSTED}), methods=["POST"]),
    Route(ONE + "/open", _described(
        _open, "Open a held mail as a ticket for a new contact",
        "The sender becomes a client contact of the organisation (unless they are one already) and the mail the "
        "first message of a new ticket.", 201,
        body=s.obj(["org_id"], org_id=s.ID, name={**s.TEXT, "maxLength": 100}), responses={201: POSTED}),
          methods=["POST"]),
    Route("/api/tickets/{ticket_id:id}/reply-address/revoke", operation(
        summary="Revoke a person's reply address for a ticket", tag="Mail to review", errors=(400, 403, 404),
        description="Staff only. The `Reply-To` address this person's e-mails about the ticket carry stops "
                    "naming them: mail sent to it from now on is held for review (reason: a revoked reply "
                    "address), and their next e-mail about the ticket carries a new address. For an address "
                    "that was forwarded or leaked.",
        body=s.obj(["user_id"], user_id=s.ID),
        responses={200: s.obj(["ticket_id", "user_id", "revoked"], ticket_id=s.ID, user_id=s.ID,
                              revoked=s.BOOL)})(_handler(_revoke)), methods=["POST"]),
]
