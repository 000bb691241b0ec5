"""The shape of every page action: run a service call, then redirect with a flash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.status import HTTP_303_SEE_OTHER

from grassroots.kernel.errors import DomainError
from grassroots.kernel.uow import UnitOfWork
from grassroots.web.session import flash
from grassroots.web.templating import gettext


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)


def error_text(request: Request, exc: DomainError, messages: Mapping[str, str] | None = None) -> str:
    """A page's wording for an error code (a msgid), else the service's own message."""
    _ = gettext(request)
    return _(messages[exc.code]) if messages and exc.code in messages else exc.message


async def act(
    request: Request,
    uow: UnitOfWork,
    action: Awaitable[Any],
    *,
    redirect: str | Callable[[Any], str],
    done: str | None = None,
    messages: Mapping[str, str] | None = None,
    on_error: str | None = None,
) -> Response:
    """Await ``action`` inside a savepoint and redirect: with ``done`` (a msgid) flashed on
    success, or the error flashed (and everything the action wrote undone) on failure.
    ``redirect`` may depend on the action's result; ``on_error`` is where a failure goes
    (default: ``redirect``, or this path when ``redirect`` depends on the result)."""
    try:
        async with uow.attempt():
            result = await action
    except DomainError as exc:
        response = see_other(on_error or (redirect if isinstance(redirect, str) else request.url.path))
        flash(request, response, error_text(request, exc, messages), "error")
        return response
    response = see_other(redirect if isinstance(redirect, str) else redirect(result))
    if done:
        _ = gettext(request)
        flash(request, response, _(done))
    return response
