"""The shape of every page action: run a service call, then redirect with a flash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.status import HTTP_303_SEE_OTHER

from grassroots.kernel.errors import DomainError
from grassroots.kernel.i18n import N_
from grassroots.kernel.uow import UnitOfWork
from grassroots.web.session import flash
from grassroots.web.templating import gettext


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)


# Page-facing wording for error codes any page may meet (translated, unlike the services'
# own English messages); a page adds its own codes, and other codes show the service's text.
PAGE_MESSAGES = {
    "not_found": N_("Nothing lives at this address."),
    "forbidden_role": N_("Your account's role cannot open this page."),
    "csrf_failed": N_("This form expired or came from another site. Reload the page and try again."),
    "rate_limited": N_("Too many attempts. Wait a moment and try again."),
    "method_not_allowed": N_("This address does not accept that kind of request."),
    "order_not_found": N_("No such order."),
    "product_not_found": N_("No such product."),
    "sku_not_found": N_("No such product option."),
    "payment_not_found": N_("No such payment."),
    "checkout_not_found": N_("No such checkout."),
    "checkout_closed": N_("This checkout is closed: it was paid or declined already, or its order was cancelled."),
    "refund_not_found": N_("No such refund."),
    "return_not_found": N_("No such return request."),
    "contract_not_found": N_("No such contract."),
    "creator_not_found": N_("No such creator."),
    "user_not_found": N_("No such account."),
    "post_not_found": N_("No such post."),
    "comment_not_found": N_("No such comment: it may have been deleted."),
    "share_link_not_found": N_("This share link does not exist."),
    "validation_error": N_("Some fields are missing or invalid."),
    "not_owner": N_("Only the supplier who listed this product may change it."),
    "not_supplier": N_("Only the order's supplier can do this."),
    "not_buyer": N_("Only the buyer can do this."),
    "not_author": N_("Only the author can do this."),
    "not_contract_creator": N_("Only the creator named in the contract can accept it."),
    "account_suspended": N_("This account is suspended; contact the platform's operators."),
    "invalid_cursor": N_("That page of the list no longer exists. Start again from the first page."),
}


def error_text(request: Request, exc: DomainError, messages: Mapping[str, str] | None = None) -> str:
    """A page's wording for an error code (a msgid), else the shared wording, else the
    service's own message."""
    if messages and exc.code in messages:
        msgid = messages[exc.code]
    elif exc.code in PAGE_MESSAGES:
        msgid = PAGE_MESSAGES[exc.code]
    else:
        return exc.message
    return str(gettext(request)(msgid))


MAX_NEXT = 500  # the longest "next" address a login form carries back


def safe_next(target: str | None, default: str = "/", *, longest: int | None = None) -> str:
    """Only same-site paths: no scheme, no host, no protocol-relative ``//`` (nor, with
    ``longest``, one longer than that)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if longest is not None and len(target) > longest:
        return default
    return target


def form_page(request: Request, fallback: str) -> str:
    """The page a form was sent from (its path and query), if it is one of ours to go to."""
    try:
        ref = urlsplit(request.headers.get("referer", ""))
    except ValueError:  # a malformed header (``http://[``) is no page to go back to
        return fallback
    return safe_next(ref.path + (f"?{ref.query}" if ref.query else "") or None, fallback)


async def act(
    request: Request,
    uow: UnitOfWork,
    action: Awaitable[Any],
    *,
    redirect: str | Callable[[Any], str],
    done: str | None = None,
    messages: Mapping[str, str] | None = None,
    on_error: str | None = None,
    on_failure: Callable[[], Awaitable[object]] | None = None,
) -> Response:
    """Await ``action`` inside a savepoint and redirect: with ``done`` (a msgid) flashed on
    success, or the error flashed (and everything the action wrote undone) on failure.
    ``redirect`` may depend on the action's result; ``on_error`` is where a failure goes
    (default: ``redirect``, or the form's page when ``redirect`` depends on the result), after
    ``on_failure`` ran (to keep what the person typed)."""
    try:
        async with uow.attempt():
            result = await action
    except DomainError as exc:
        if on_failure is not None:
            await on_failure()
        response = see_other(on_error or (redirect if isinstance(redirect, str) else form_page(request, "/home")))
        flash(request, response, error_text(request, exc, messages), "error")
        return response
    response = see_other(redirect if isinstance(redirect, str) else redirect(result))
    if done:
        _ = gettext(request)
        flash(request, response, _(done))
    return response
