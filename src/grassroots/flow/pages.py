"""Flow pages: the feed (following / discover, with infinite scroll) and search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from grassroots.content.service import views as post_views
from grassroots.flow import service
from grassroots.kernel.auth import MaybeUser
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import DomainError
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import PageParams, Paging
from grassroots.web import nav
from grassroots.web.actions import error_text
from grassroots.web.templating import render

router = APIRouter(include_in_schema=False)

nav.register("/feed", N_("Feed"), None, order=1)
nav.register("/search", N_("Search"), None, order=2)

Tab = Literal["following", "discover"]
SEARCH_ERRORS = {"empty_query": N_("Type a word or a name after “@” to search for.")}


async def _page(uow: UoW, viewer: MaybeUser, tab: Tab, paging: Paging) -> tuple[list[object], str | None]:
    if tab == "following" and viewer is not None:
        views, next_cursor = await service.following_feed(uow, viewer, paging)
        return list(views), next_cursor
    part = await service.discover_slice(uow, paging)
    return list(await post_views(uow, part.ids)), part.next_cursor


def _signed_out(viewer: MaybeUser, tab: Tab, paging: PageParams) -> tuple[Tab, PageParams]:
    """Following needs a viewer: signed out (a session that ended mid-scroll too), discover
    from its top, whose cursor a following one is not."""
    if tab == "following" and viewer is None:
        return "discover", PageParams(None, paging.limit)
    return tab, paging


@router.get("/feed")
async def feed(request: Request, viewer: MaybeUser, uow: UoW, paging: Paging, tab: Tab = "discover") -> Response:
    tab, paging = _signed_out(viewer, tab, paging)
    views, next_cursor = await _page(uow, viewer, tab, paging)
    return render(request, "flow/feed.html", {"views": views, "next_cursor": next_cursor, "tab": tab})


@router.get("/feed/more")
async def more(request: Request, viewer: MaybeUser, uow: UoW, paging: Paging, tab: Tab = "discover") -> Response:
    """The next cards as an HTML fragment, for the feed's infinite scroll."""
    tab, paging = _signed_out(viewer, tab, paging)
    views, next_cursor = await _page(uow, viewer, tab, paging)
    return render(request, "flow/feed_more.html", {"views": views, "next_cursor": next_cursor, "tab": tab})


@router.get("/search")
async def search(
    request: Request,
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    q: Annotated[str, Query(max_length=200)] = "",
    type: Literal["products", "posts", "users"] = "posts",
) -> Response:
    results, error = None, None
    if q.strip():
        try:
            results = await service.search(uow, q, type, paging)
        except DomainError as exc:
            error = error_text(request, exc, SEARCH_ERRORS)
    return render(
        request,
        "flow/search.html",
        {"q": q, "type": type, "results": results, "error": error},
    )
