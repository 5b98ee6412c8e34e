"""The opening every page form shares: sign in, may this person use the page, read the form (bounded), check
its CSRF token. Each part answers with the Response to return at once, or gives what the handler goes on with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from livesupport.domain.people import Person
from livesupport.web.limits import read_form
from livesupport.web.pages import login_first, not_found
from livesupport.web.security import csrf_ok

#: A page's own answer to a form whose CSRF token failed (its "this form expired" message, with what was typed).
Expired = Callable[[FormData], Awaitable[Response]]
SignedInExpired = Callable[[Person, FormData], Awaitable[Response]]
Allow = Callable[[Person], bool]


async def signed_in(request: Request, allow: Allow | None = None) -> Person | Response:
    """The signed-in person; else a redirect to sign in; a person `allow` refuses sees "not found"."""
    person, redirect = await login_first(request)
    if person is None:
        assert redirect is not None
        return redirect
    if allow is not None and not allow(person):
        return not_found(request, person)
    return person


async def csrf_form(request: Request, expired: Expired, max_files: int = 0) -> FormData | Response:
    """The form, read within bounds (web.limits.read_form); `expired(form)` answers a failed CSRF check."""
    form = await read_form(request, max_files)
    if not csrf_ok(request, form.get("csrf")):
        return await expired(form)
    return form


async def signed_in_form(request: Request, expired: SignedInExpired, allow: Allow | None = None,
                         max_files: int = 0) -> tuple[Person, FormData] | Response:
    """signed_in, then csrf_form: (person, form), or the Response to return at once (`max_files`: a form that
    carries files, as many as that)."""
    person = await signed_in(request, allow)
    if isinstance(person, Response):
        return person
    form = await csrf_form(request, lambda form: expired(person, form), max_files)
    if isinstance(form, Response):
        return form
    return person, form
