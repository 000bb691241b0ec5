"""Affiliate pages: the creator's pool browser and showcase, and public showcases."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from grassroots.affiliate import service
from grassroots.affiliate.models import ShareLink
from grassroots.catalog import service as catalog
from grassroots.content import service as content
from grassroots.identity.api import client_ip
from grassroots.kernel.auth import CurrentUser, MaybeUser, Principal, Role, cookie_secure, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import DomainError, NotFound
from grassroots.kernel.http import head_only
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.mcn import service as mcn
from grassroots.web import nav
from grassroots.web.actions import act, form_page, safe_next
from grassroots.web.forms import text, uuid_field
from grassroots.web.session import CsrfForm, flash
from grassroots.web.templating import gettext, render

router = APIRouter(include_in_schema=False)

Creator = Annotated[Principal, Depends(require(Role.creator))]

nav.register("/affiliate/pool", N_("Affiliate pool"), (Role.creator,), order=10)
nav.register("/showcase", N_("Showcase"), (Role.creator,), order=20)

ERRORS = {
    "not_in_pool": N_("Only products in the affiliate pool can go in a showcase."),
    "not_in_showcase": N_("That product is not in your showcase."),
    "product_not_found": N_("No such product."),
}
SORTS = [("commission", N_("Best commission")), ("sales", N_("Best selling")), ("new", N_("Newest"))]


@router.get("/affiliate/pool")
async def pool(
    request: Request,
    creator: Creator,
    uow: UoW,
    paging: Paging,
    category: Annotated[str | None, Query(max_length=32)] = None,
    sort: str = "commission",
) -> Response:
    sort = sort if sort in service.POOL_SORTS else "commission"
    category = category if category in catalog.CATEGORIES else None
    products, next_cursor = await service.pool(uow, paging, category=category, sort=sort)
    mine = await service.showcased_product_ids(uow, creator.id)
    mcn_share = await mcn.share_taken(uow, creator)
    # What this creator is paid: a rate lowered since they showcased it still pays the old one.
    rates = await service.commission_rates(uow, creator.id, products, uow.now())
    base = f"/affiliate/pool?sort={sort}" + (f"&category={category}" if category else "")
    return render(
        request,
        "affiliate/pool.html",
        {
            "products": products,
            "mine": mine,
            "rates": rates,
            "mcn_share": mcn_share,
            "next_cursor": next_cursor,
            "sort": sort,
            "sorts": SORTS,
            "category": category or "",
            "base": base,
            # where an add or remove returns: this page, cursor included
            "here": base + (f"&cursor={paging.cursor}" if paging.cursor else ""),
        },
    )


def _back(form: object, default: str) -> str:
    return safe_next(text(form, "next", 300), default)  # type: ignore[arg-type]


def _product_id(form: object) -> uuid.UUID:
    product_id = uuid_field(form, "product_id")  # type: ignore[arg-type]
    if product_id is None:
        raise NotFound("No such product.", code="product_not_found")
    return product_id


@router.post("/showcase/add")
async def add(request: Request, form: CsrfForm, creator: Creator, uow: UoW) -> Response:
    async def go() -> None:
        await service.add_to_showcase(uow, creator, _product_id(form))

    return await act(
        request, uow, go(), redirect=_back(form, "/affiliate/pool"), done=N_("Added to your showcase."), messages=ERRORS
    )


@router.post("/showcase/remove")
async def remove(request: Request, form: CsrfForm, creator: Creator, uow: UoW) -> Response:
    async def go() -> None:
        await service.remove_from_showcase(uow, creator, _product_id(form))

    return await act(
        request, uow, go(), redirect=_back(form, "/showcase"), done=N_("Removed from your showcase."), messages=ERRORS
    )


@router.get("/showcase")
async def my_showcase(request: Request, creator: Creator, uow: UoW, paging: Paging) -> Response:
    entries, next_cursor = await service.showcase(uow, creator.id, paging, creator)
    rates = await service.commission_rates(uow, creator.id, [e.product for e in entries], uow.now())
    context = {
        "entries": entries,
        "next_cursor": next_cursor,
        "rates": rates,
        "mcn_share": await mcn.share_taken(uow, creator),
    }
    return render(request, "affiliate/my_showcase.html", context)


@router.get("/creators/{creator_id}/showcase")
async def public_showcase(
    request: Request, creator_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging
) -> Response:
    creator = await service.showcase_owner(uow, creator_id)
    entries, next_cursor = await service.showcase(uow, creator_id, paging, None)
    return render(
        request, "affiliate/showcase.html", {"creator": creator, "entries": entries, "next_cursor": next_cursor}
    )


VISITOR_COOKIE_AGE = 365 * 24 * 3600


@router.get("/s/{token}")
async def open_share_link(token: str, request: Request, viewer: MaybeUser, uow: UoW) -> Response:
    """A share link: count the click (once per visitor a day), remember the visitor with
    a first-party cookie, and go to the post or the product with the link as the source."""
    visitor = service.valid_visitor(request.cookies.get(service.VISITOR_COOKIE))
    fresh = visitor is None
    if visitor is None:
        visitor = service.new_visitor_id()
    if head_only(request):  # a link preview's HEAD: where it leads, no click and no cookie
        link, selling = await service.click(uow, token, None, None)
        fresh = False
    else:
        # A GET's unit of work only reads (on SQLite it takes no writer lock, so writing in
        # it fails with "database is locked" while anything else writes): the click gets its own.
        async with uow.platform.unit_of_work() as writer:
            link, selling = await service.click(
                writer,
                token,
                viewer.id if viewer else None,
                visitor,
                new_visitor_from=client_ip(request) if fresh and viewer is None else None,
            )
    query = urlencode({"share": link.token, "scene": "share"})
    post_live = link.post_id is not None and bool(await content.live_post_ids(uow, [link.post_id]))
    # a link through a post that was deleted since still leads to the product
    target = f"/posts/{link.post_id}?{query}" if post_live else f"/products/{link.product_id}?{query}"
    if not selling and not post_live:
        target = "/products"
    response = RedirectResponse(target, status_code=303)
    if not selling:
        _ = gettext(request)
        flash(request, response, _("The product this link shares is no longer on sale."), "error")
    if fresh:
        response.set_cookie(
            service.VISITOR_COOKIE,
            visitor,
            max_age=VISITOR_COOKIE_AGE,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
        )
    return response


nav.register("/me/share-links", N_("Share links"), (Role.consumer, Role.creator), order=60)


@router.post("/share")
async def share(request: Request, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    """Make (or find) the user's share link for a product, then show it to copy."""
    product_id = uuid_field(form, "product_id")
    post_id = uuid_field(form, "post_id")
    if product_id is None:
        raise NotFound("No such product on sale.", code="product_not_found")

    async def make() -> tuple[ShareLink, bool]:
        try:
            return await service.create_share_link(uow, user, product_id, post_id)
        except DomainError as exc:  # the post was deleted since the page showed it: share the product
            if exc.code != "post_not_found":
                raise
            return await service.create_share_link(uow, user, product_id)

    return await act(
        request,
        uow,
        make(),
        redirect=lambda made: f"/me/share-links?new={made[0].token}",
        messages=ERRORS,
        on_error=form_page(request, f"/products/{product_id}"),
    )


@router.get("/me/share-links")
async def my_share_links(
    request: Request,
    user: CurrentUser,
    uow: UoW,
    paging: Paging,
    new: Annotated[str | None, Query(max_length=24)] = None,
) -> Response:
    links, next_cursor = await service.my_links(uow, user, paging)
    products = await catalog.listed_products(uow, list({x.product_id for x in links}))
    live_posts = await content.live_post_ids(uow, list({x.post_id for x in links if x.post_id}))
    base = (uow.settings.public_url or str(request.base_url)).rstrip("/")
    return render(
        request,
        "affiliate/share_links.html",
        {
            "links": links,
            "products": products,
            "live_posts": live_posts,
            "rates": await service.commission_rates(uow, user.id, list(products.values()), uow.now()),
            "mcn_share": await mcn.share_taken(uow, user),
            "next_cursor": next_cursor,
            "new": new,
            "base": base,
            "window_days": uow.settings.click_window_days,
        },
    )
