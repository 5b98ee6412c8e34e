"""The HTTP companions of the protocol, under /api."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livesupport.actions.attachments import MAX_FILES, Upload
from livesupport.domain.errors import (
    BadRequestError,
    ForbiddenError,
    LivesupportError,
    OtpRequiredError,
    TooLargeError,
)
from livesupport.domain.ids import MAX_ID
from livesupport.domain.numbers import parse_int
from livesupport.domain.tickets import MAX_BODY, MAX_SUBJECT
from livesupport.realtime.frames import decode
from livesupport.web.errors import JSONResponse, json_error
from livesupport.web.limits import FORM_FIELD_BYTES, MAX_JSON
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.security import api_person, bearer, client_address
from livesupport.web.services import services
from livesupport.web.ticket_list import list_tickets


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise TooLargeError(f"The request body is over {MAX_JSON // 1024} KiB.")
    return decode(raw, "request body")


def ticket_id(request: Request) -> int:
    raw = request.path_params["ticket_id"]
    return int(raw)


@operation(
    summary="Get a bearer token", tag="Tokens", auth=None, errors=(401, 429),
    description="Sign in with an e-mail address and password (and the one-time code when the account uses "
                "two-factor sign-in). Wrong credentials answer 401 alike whether the address exists or not; a "
                "missing code answers 401 with the code otp_required.",
    body=s.obj(["email", "password"],
               email={**s.EMAIL, "minLength": 1,
                      "description": "The e-mail address (a domain administrator may give the bare domain)."},
               password={**s.TEXT, "minLength": 1},
               otp={**s.TEXT, "description": "The 6-digit one-time code, for an account with two-factor on."}),
    responses={201: s.obj(["token", "expires_at", "user"], token=s.TEXT, expires_at=s.INSTANT, user=s.PERSON)})
async def create_token(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        body = await json_body(request)
        person = await svc.accounts.authenticate(body.get("email"), body.get("password"), client_address(request))
        if await svc.two_factor.is_on(person.id):
            if body.get("otp") in (None, ""):
                return json_error(OtpRequiredError("This account uses two-factor sign-in: send the code as otp."))
            await svc.two_factor.verify(person.id, body.get("otp"), client_address(request))
        token, expires_at = await svc.accounts.issue_token(person)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"token": token, "expires_at": expires_at, "user": person.public()}, status_code=201)


@operation(
    summary="Check a user's one-time code", tag="Applications", auth="app", errors=(429,),
    body=s.obj(["email", "code"], email=s.EMAIL, code={**s.TEXT, "description": "The 6 digits the user typed."}),
    responses={200: s.obj(["valid"], valid=s.BOOL, user=s.obj(["id", "email", "name"], id=s.ID, email=s.EMAIL,
                                                                 name=s.TEXT))})
async def verify_otp(request: Request) -> JSONResponse:
    """For other applications: is this the user's current one-time code? Authenticated by an application key."""
    svc = services(request)
    try:
        body = await json_body(request)
        result = await svc.two_factor.verify_for_app(bearer(request), body.get("email"), body.get("code"),
                                                     client_address(request))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(result)


@operation(
    summary="Verify a caller's PIN", tag="Phone", errors=(403, 404, 429),
    body=s.obj(["email", "pin"], email=s.EMAIL, pin={**s.TEXT, "description": "The caller's support PIN."}),
    responses={200: s.obj(["verified"], verified=s.BOOL, verification_id=s.ID, expires_at=s.INSTANT,
                          contact=s.obj(), org=s.nullable(s.ORG), standing=s.TEXT, good_standing=s.BOOL,
                          actions=s.array(s.obj(["name", "allowed"], name=s.TEXT, label=s.TEXT, group=s.TEXT,
                                                allowed=s.BOOL, why=s.nullable(s.TEXT))))})
async def verify_pin(request: Request) -> JSONResponse:
    """For telephony integrations (a staff token): does the caller's PIN match? Throttled and audited."""
    svc = services(request)
    try:
        person = await api_person(request)
        body = await json_body(request)
        result = await svc.phone.verify(person, body.get("email"), body.get("pin"), client_address(request))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(result)


@operation(summary="Revoke a token", tag="Tokens", errors=(400, 403), responses={204: None})
async def revoke_token(request: Request) -> Response:
    """Log out a token: it stops working and the sockets it opened are closed with 4401."""
    try:
        await api_person(request)
        token = bearer(request)
        if token is None:
            raise BadRequestError("Send the token to revoke as Authorization: Bearer <token>.")
        await services(request).accounts.revoke(token)
    except LivesupportError as exc:
        return json_error(exc)
    return Response(status_code=204)


@operation(
    summary="Open a ticket", tag="Tickets", errors=(403,),
    description="A client opens a ticket for their own organisation; staff open one for a client and must say "
                "which (org_id). The body is the first message. `follows_up`: an earlier ticket of the same "
                "organisation this one carries on from (one too old to reopen); both show a link to the other.",
    body=s.obj(["subject", "body"],
               subject={**s.TEXT, "minLength": 1, "maxLength": MAX_SUBJECT, "description": "A short summary."},
               body={**s.TEXT, "minLength": 1, "maxLength": MAX_BODY, "description": "The first message."},
               priority=s.PRIORITY, org_id={**s.ID, "description": "Staff only: the client organisation."},
               follows_up={**s.ID, "description": "The ticket this one follows up."}),
    responses={201: s.TICKET})
async def create_ticket(request: Request) -> JSONResponse:
    svc = services(request)
    try:
        person = await api_person(request)
        body = await json_body(request)
        snap = await svc.tickets.open(person, body.get("subject"), body.get("body"), body.get("priority"),
                                      body.get("org_id"), body.get("follows_up"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(snap, status_code=201)


@operation(summary="Read a ticket", tag="Tickets", errors=(403,),
           description="The ticket as a `joined` frame's state shows it. A ticket one may not see and one that "
                       "does not exist both answer 403.",
           responses={200: s.TICKET_STATE})
async def get_ticket(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        state, _, _ = await services(request).tickets.snapshot(person, ticket_id(request))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse(state)


@operation(
    summary="Read the client's context of a ticket", tag="Staff", errors=(403,),
    description="Staff only: the organisation's billing standing and amount owed, its other open tickets, a "
                "transfer of service under way, a caller verified by phone PIN in the last 30 minutes (by whom, "
                "when) and the contact's local time (null while their time zone is not known). A client is "
                "refused with 403, as for a ticket one may not see.",
    responses={200: s.obj(
        ["at", "org", "billing", "open_tickets", "transfer", "verified_caller", "contact"],
        at=s.INSTANT, org=s.ORG,
        billing=s.obj(["standing", "owed_cents"], standing=s.enum(["good", "late", "suspended"]), owed_cents=s.CENTS,
                      next_deadline=s.nullable(s.obj())),
        open_tickets=s.array(s.obj(["id", "subject", "status"], id=s.ID, subject=s.TEXT, status=s.STATUS_NAME,
                                   updated_at=s.INSTANT)),
        more_open_tickets=s.BOOL, transfer=s.nullable(s.obj(["id", "state"], id=s.ID, state=s.TEXT)),
        verified_caller=s.nullable(s.obj(["contact", "by", "at", "until"], contact=s.TEXT, by=s.TEXT,
                                         at=s.INSTANT, until=s.INSTANT)),
        contact=s.nullable(s.obj(["id", "name", "local_time"], id=s.ID, name=s.TEXT, local_time=s.nullable(s.obj(
            ["time_zone", "at", "clock", "offset"], time_zone=s.TEXT, at=s.INSTANT, clock=s.TEXT, offset=s.TEXT,
            working_hours=s.BOOL)))))})
async def ticket_context(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        return JSONResponse(await services(request).context.of_ticket(person, ticket_id(request)))
    except LivesupportError as exc:
        return json_error(exc)


@operation(
    summary="Read a ticket's events", tag="Tickets", errors=(400, 403),
    description="Up to 1000 events after `since`, oldest first, as the socket's `event` frames; `more` says "
                "whether to ask again with the last seq.",
    query=[s.query("since", s.SEQ, "The last seq you saw (0: from the start).")],
    responses={200: s.obj(["events", "more"], events=s.array(s.EVENT), more=s.BOOL)})
async def ticket_events(request: Request) -> JSONResponse:
    try:
        person = await api_person(request)
        since = parse_int(request.query_params.get("since", "0"), 0, MAX_ID)
        if since is None:
            raise BadRequestError("since must be a whole number (0-9 only): the last seq you saw.")
        events, more = await services(request).tickets.events(person, ticket_id(request), since)
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"events": events, "more": more})


@operation(
    summary="Attach files", tag="Tickets", errors=(400, 403, 413, 415, 429), body_type="multipart/form-data",
    description="Files (and an optional message) posted as one chat event.",
    body=s.obj(["file"], file=s.array({"type": "string", "contentMediaType": "application/octet-stream"}),
               body=s.TEXT, visibility=s.enum(["public", "internal"]),
               reply_to={**s.TEXT, "description": "The seq of the message this answers."}),
    responses={201: s.obj(["seq", "attachments"], seq=s.SEQ, attachments=s.array(s.obj()))})
async def upload_attachments(request: Request) -> JSONResponse:
    """multipart/form-data: `file` (one or more), `body`?, `visibility`?, `reply_to`?"""
    svc = services(request)
    limit = svc.settings.max_attachment_bytes
    try:
        person = await api_person(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadRequestError("Send the files as multipart/form-data, in fields named 'file'.")
        async with request.form(max_files=MAX_FILES, max_fields=20, max_part_size=FORM_FIELD_BYTES) as form:
            uploads = []
            for item in form.getlist("file"):
                if not isinstance(item, UploadFile):
                    raise BadRequestError("The 'file' field must hold files, not text.")
                data = await item.read(limit + 1)
                uploads.append(Upload(item.filename or "", data))
            fields = {k: form.get(k) for k in ("body", "visibility", "reply_to")}
        seq, shown = await svc.attachments.send(person, ticket_id(request), uploads, fields["body"],
                                                fields["visibility"] or None, fields["reply_to"])
    except LivesupportError as exc:
        return json_error(exc)
    except MultiPartException as exc:
        return json_error(BadRequestError(f"The upload could not be read: {exc.message}"))
    return JSONResponse({"seq": seq, "attachments": shown}, status_code=201)


async def download_attachment(request: Request) -> Response:
    svc = services(request)
    try:
        person = await api_person(request)
        row, data = await svc.attachments.download(person, int(request.path_params["attachment_id"]))
    except LivesupportError as exc:
        return json_error(exc)
    # Always a download, never rendered by the browser; the type is what the bytes are (nosniff is on every response).
    disposition = f"attachment; filename*=UTF-8''{quote(row.name)}"
    return Response(data, media_type=row.content_type, headers={
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-store", "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@operation(method="GET", summary="Do I follow this ticket?", tag="Tickets", errors=(403,),
           description="Whether e-mails about this ticket reach me, and why.", responses={200: s.FOLLOWING})
@operation(method="POST", summary="Follow a ticket", tag="Tickets", errors=(400, 403, 404),
           description="Follow it; staff may add a contact of the ticket's organisation with user_id.",
           body=s.obj(user_id=s.ID), body_required=False, responses={200: s.FOLLOWING})
@operation(method="DELETE", summary="Stop following a ticket", tag="Tickets", errors=(403,),
           description="No more e-mails about it, also when one follows it by role (opener, assignee).", responses={200: s.FOLLOWING})
async def follow(request: Request) -> JSONResponse:
    """GET: do I follow this ticket, and why. POST: follow it ({"user_id"}: staff add a contact). DELETE: stop."""
    following = services(request).following
    try:
        person = await api_person(request)
        if request.method == "GET":
            return JSONResponse(await following.status(person, ticket_id(request)))
        if request.method == "DELETE":
            return JSONResponse(await following.unfollow(person, ticket_id(request)))
        body = await json_body(request) if await request.body() else {}
        return JSONResponse(await following.follow(person, ticket_id(request), body.get("user_id")))
    except LivesupportError as exc:
        return json_error(exc)


@operation(summary="Move a ticket to another organisation", tag="Staff", errors=(403, 404, 409),
           body=s.obj(["org_id"], org_id=s.ID), responses={200: s.obj(["ok", "seq"], ok=s.BOOL, seq=s.SEQ)})
async def move_ticket(request: Request) -> JSONResponse:
    """Level 3 or an admin: {"org_id"} moves the ticket to that client organisation."""
    try:
        person = await api_person(request)
        body = await json_body(request)
        seq = await services(request).huddle.move(person, ticket_id(request), body.get("org_id"))
    except LivesupportError as exc:
        return json_error(exc)
    return JSONResponse({"ok": True, "seq": seq})


@operation(summary="List the engineers", tag="Staff", errors=(403,),
           responses={200: s.obj(["staff"], staff=s.array(s.PERSON))})
async def list_staff(request: Request) -> JSONResponse:
    """The engineers one can assign or invite (staff only)."""
    try:
        person = await api_person(request)
        if not person.is_staff:
            raise ForbiddenError("Only support staff can list the engineers.")
        return JSONResponse({"staff": await services(request).tickets.staff()})
    except LivesupportError as exc:
        return json_error(exc)


routes = [
    Route("/api/tokens", create_token, methods=["POST"]),
    Route("/api/tokens", revoke_token, methods=["DELETE"]),
    Route("/api/otp/verify", verify_otp, methods=["POST"]),
    Route("/api/pin/verify", verify_pin, methods=["POST"]),
    Route("/api/tickets", create_ticket, methods=["POST"]),
    Route("/api/tickets", list_tickets, methods=["GET"]),
    Route("/api/tickets/{ticket_id:id}", get_ticket, methods=["GET"]),
    Route("/api/tickets/{ticket_id:id}/events", ticket_events, methods=["GET"]),
    Route("/api/tickets/{ticket_id:id}/context", ticket_context, methods=["GET"]),
    Route("/api/tickets/{ticket_id:id}/attachments", upload_attachments, methods=["POST"]),
    Route("/api/tickets/{ticket_id:id}/follow", follow, methods=["GET", "POST", "DELETE"]),
    Route("/api/tickets/{ticket_id:id}/move", move_ticket, methods=["POST"]),
    Route("/api/staff", list_staff, methods=["GET"]),
    Route("/attachments/{attachment_id:id}/{name}", download_attachment, methods=["GET"]),
]
