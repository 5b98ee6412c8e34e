"""A transfer's pages: each outside party's own page (by their personal link) and the staff board and detail.

Both update live (`transfer:<id>`, `transfers`): static/transfer_live.js fetches the `/status` fragment
again when a frame arrives, so what is shown is always rendered by the same template.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livesupport.actions.throttle import TRANSFER_LINK
from livesupport.actions.transfers import LinkExpiredError, Visitor, may_act
from livesupport.domain.errors import ForbiddenError, LivesupportError
from livesupport.domain.people import Person
from livesupport.web.errors import STATUS, JSONResponse, json_error
from livesupport.web.limits import read_form
from livesupport.web.openapi import operation
from livesupport.web.openapi import schemas as s
from livesupport.web.pages import login_first, not_found, render
from livesupport.web.pages.auth import EXPIRED_FORM
from livesupport.web.pages.forms import Expired, csrf_form, signed_in
from livesupport.web.security import api_person, client_address, csrf_ok
from livesupport.web.services import services

PARTY_ACTIONS = {"confirm", "sign", "object", "accept", "decline", "withdraw"}
STAFF_ACTIONS = {"move", "complete", "confirm", "note", "handled", "cancel", "resend", "link"}


def _party_url(request: Request) -> str:
    return f"/transfer/{request.path_params['id']}/p/{request.path_params['token']}"


async def _party(request: Request) -> Visitor | Response:
    """The visitor of a party link, or the page that says why the link does not work."""
    try:
        return await services(request).transfers.visitor(request.path_params["id"], request.path_params["token"])
    except LinkExpiredError as exc:
        return render(request, "transfer_link.html", None, 403, title="Link expired", error=exc.message,
                      relink=_party_url(request) + "/relink")
    except ForbiddenError as exc:
        return render(request, "transfer_link.html", None, 403, title="Link not valid", error=exc.message, relink=None)


async def _party_page(request: Request, visitor: Visitor, status: int = 200, error: str | None = None,
                      done: str | None = None, form: dict[str, Any] | None = None) -> Response:
    transfer = await services(request).transfers.view(visitor)
    return render(request, "transfer_party.html", None, status, title=f"Transfer {visitor.transfer_id}",
                  t=transfer, base=_party_url(request), token=request.path_params["token"], error=error, done=done,
                  form=form or {}, you=visitor.role)


async def party_page(request: Request) -> Response:
    visitor = await _party(request)
    if isinstance(visitor, Response):
        return visitor
    return await _party_page(request, visitor, done=DONE.get(request.query_params.get("done", "")))


async def party_status(request: Request) -> Response:
    """The live part of a party's page, rendered again for static/transfer_live.js."""
    visitor = await _party(request)
    if isinstance(visitor, Response):
        return visitor
    transfer = await services(request).transfers.view(visitor)
    return render(request, "_transfer_status.html", None, t=transfer, staff=False)


DONE = {
    "confirm": "Thank you: your request is confirmed. We have written to the other parties.",
    "sign": "Thank you: the waiver is signed. From now on our staff handle everything about this client.",
    "object": "Your objection is recorded; our staff will be in touch.",
    "accept": "Thank you for accepting. Our staff will be in touch to plan the move.",
    "decline": "Your answer is recorded; our staff will be in touch with the client.",
    "withdraw": "Your request is withdrawn; nothing more will happen.",
}


async def _action_form(request: Request, actions: set[str], person: Person | None, expired: Expired
                       ) -> FormData | Response:
    """The form of a transfer action (csrf_form), where an unknown action is "not found" whatever its form."""
    known = request.path_params["action"] in actions

    async def refused(form: FormData) -> Response:
        return await expired(form) if known else not_found(request, person)

    form = await csrf_form(request, refused)
    return form if known or isinstance(form, Response) else not_found(request, person)


def _typed(form: FormData) -> dict[str, str]:
    """What a transfer form keeps when it comes back with a refusal."""
    return {k: str(v)[:2000] for k, v in form.items() if k != "csrf"}


async def party_act(request: Request) -> Response:
    visitor = await _party(request)
    if isinstance(visitor, Response):
        return visitor
    action = request.path_params["action"]
    form = await _action_form(request, PARTY_ACTIONS, None,
                              lambda form: _party_page(request, visitor, 403, EXPIRED_FORM, form=_typed(form)))
    if isinstance(form, Response):
        return form
    transfers = services(request).transfers
    try:
        if action == "confirm":
            await transfers.confirm(visitor)
        elif action == "sign":
            await transfers.sign_waiver(visitor, form.get("full_name"), form.get("consent") == "yes",
                                        form.get("waiver_sha256"), client_address(request),
                                        request.headers.get("user-agent", ""))
        elif action == "object":
            await transfers.object_to(visitor, form.get("reason"))
        elif action == "accept":
            await transfers.accept(visitor)
        elif action == "decline":
            await transfers.decline(visitor, form.get("reason"))
        else:
            await transfers.withdraw(visitor, form.get("reason"))
    except LivesupportError as exc:
        return await _party_page(request, visitor, STATUS.get(exc.code, 400), exc.message, form=_typed(form))
    # Back to the page by GET: reloading it never sends the answer again.
    return RedirectResponse(f"{_party_url(request)}?done={action}", status_code=303)


async def party_relink(request: Request) -> Response:
    """An expired link's owner asks for a fresh one, sent to the address on file (never to one typed here)."""
    form = await read_form(request)
    svc = services(request)
    token, transfer_id = request.path_params["token"], request.path_params["id"]
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "transfer_link.html", None, 403, title="Link expired", error=EXPIRED_FORM,
                      relink=_party_url(request) + "/relink")
    try:
        link = svc.transfers.links.read(transfer_id, token)
        await svc.accounts.throttle.check((TRANSFER_LINK, str(link.party_id)))
        await svc.transfers.resend_expired(transfer_id, token)
        await svc.accounts.throttle.fail((TRANSFER_LINK, str(link.party_id)))
    except LivesupportError as exc:
        return render(request, "transfer_link.html", None, STATUS.get(exc.code, 400), title="Link not valid",
                      error=exc.message, relink=None)
    return render(request, "transfer_link.html", None, title="Check your e-mail", error=None, relink=None, sent=True)


# -- staff --------------------------------------------------------------------------------


async def board(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    try:
        rows = await services(request).transfers.board(person)
    except ForbiddenError:
        return not_found(request, person)
    fragment = request.query_params.get("fragment") == "rows"
    return render(request, "_transfer_rows.html" if fragment else "transfers_board.html", person,
                  title="Transfers", rows=rows)


STAFF_DONE = {
    "move": "Recorded: the services and billing are moved.", "complete": "The transfer is completed.",
    "confirm": "Recorded: the request is confirmed for the client.", "note": "Note added (staff only).",
    "handled": "The escalation is taken up.", "cancel": "The transfer is cancelled; the parties were told.",
    "resend": "A new link is on its way; the old ones no longer work.",
    "link": "Linked to the organisation on record: moving the services updates its records.",
}


async def _staff_page(request: Request, person: Person, status: int = 200, error: str | None = None,
                      done: str | None = None, form: dict[str, Any] | None = None) -> Response:
    transfers = services(request).transfers
    try:
        visitor = transfers.staff(person, request.path_params["id"], acting=False)
        transfer = await transfers.view(visitor)
    except LivesupportError:
        return not_found(request, person)
    fragment = request.url.path.endswith("/status")
    done = done or STAFF_DONE.get(request.query_params.get("done", ""))
    orgs = await transfers.client_orgs() if not fragment and transfer.get("org_id") is None else []
    return render(request, "_transfer_status.html" if fragment else "transfer_staff.html", person, status,
                  title=f"Transfer {transfer['id']}", t=transfer, staff=True, error=error, done=done, form=form or {},
                  may_act=may_act(person), orgs=orgs)


async def staff_page(request: Request) -> Response:
    person, redirect = await login_first(request)
    if person is None:
        return redirect  # type: ignore[return-value]
    return await _staff_page(request, person)


async def staff_act(request: Request) -> Response:
    person = await signed_in(request)
    if isinstance(person, Response):
        return person
    action = request.path_params["action"]
    form = await _action_form(request, STAFF_ACTIONS, person,
                              lambda form: _staff_page(request, person, 403, EXPIRED_FORM, form=_typed(form)))
    if isinstance(form, Response):
        return form
    transfers = services(request).transfers
    try:
        visitor = transfers.staff(person, request.path_params["id"])
        if action in ("move", "complete", "confirm"):
            await transfers.staff_step(visitor, action, form.get("note"))
        elif action == "note":
            await transfers.note(visitor, form.get("note"))
        elif action == "handled":
            await transfers.handled(visitor)
        elif action == "cancel":
            await transfers.cancel(visitor, form.get("reason"))
        elif action == "link":
            await transfers.link_org(visitor, form.get("org_id"))
        else:
            await transfers.resend(visitor, form.get("role"))
    except LivesupportError as exc:
        return await _staff_page(request, person, STATUS.get(exc.code, 400), exc.message, form=_typed(form))
    return RedirectResponse(f"/transfers/{request.path_params['id']}?done={action}", status_code=303)


# -- JSON, for other clients ------------------------------------------------------------------


@operation(summary="The transfers board", tag="Transfers", errors=(403,),
           description="Staff: every transfer of service with its state, as the board shows it.",
           responses={200: s.obj(["transfers"], transfers=s.array(s.obj(["id"], id=s.ID)))})
async def api_board(request: Request) -> Response:
    try:
        person = await api_person(request)
        return JSONResponse({"transfers": await services(request).transfers.board(person)})
    except LivesupportError as exc:
        return json_error(exc)


@operation(summary="A transfer", tag="Transfers", errors=(403, 404),
           description="Staff: one transfer with its parties, steps and history.",
           responses={200: s.obj(["id"], id=s.ID)})
async def api_transfer(request: Request) -> Response:
    try:
        person = await api_person(request)
        transfers = services(request).transfers
        return JSONResponse(await transfers.view(transfers.staff(person, request.path_params["id"], acting=False)))
    except LivesupportError as exc:
        return json_error(exc)


routes = [
    Route("/transfer/{id:id}/p/{token}", party_page, methods=["GET"]),
    Route("/transfer/{id:id}/p/{token}/status", party_status, methods=["GET"]),
    Route("/transfer/{id:id}/p/{token}/relink", party_relink, methods=["POST"]),
    Route("/transfer/{id:id}/p/{token}/{action}", party_act, methods=["POST"]),
    Route("/transfers", board, methods=["GET"]),
    Route("/transfers/{id:id}", staff_page, methods=["GET"]),
    Route("/transfers/{id:id}/status", staff_page, methods=["GET"]),
    Route("/transfers/{id:id}/{action}", staff_act, methods=["POST"]),
    Route("/api/transfers", api_board, methods=["GET"]),
    Route("/api/transfers/{id:id}", api_transfer, methods=["GET"]),
]
