"""Content pages: a post, and the creator studio (publish, my posts with their numbers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.commerce import service as commerce
from grassroots.commerce.schemas import source_params
from grassroots.content import service
from grassroots.content.schemas import PostIn
from grassroots.kernel.auth import CurrentUser, MaybeUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import DomainError, Invalid
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import PageParams, Paging
from grassroots.ledger import service as ledger
from grassroots.mcn import service as mcn
from grassroots.social import service as social
from grassroots.web import nav
from grassroots.web.actions import act, error_text, see_other
from grassroots.web.forms import text
from grassroots.web.session import CsrfForm, flash
from grassroots.web.templating import gettext, register_global, render

router = APIRouter(include_in_schema=False)

Creator = Annotated[Principal, Depends(require(Role.creator))]

nav.register("/studio", N_("Studio"), (Role.creator,), order=5)
register_global("media_url", service.media_url)

ERRORS = {
    "unsupported_media": N_("Upload JPEG, PNG, WebP or GIF images, or an MP4, WebM or MOV video."),
    "too_large": N_("That file is too large."),
    "video_required": N_("A video post needs exactly one video."),
    # the page sends a cover only with a short video: an image was chosen as the video
    "cover_not_allowed": N_("A video post needs exactly one video."),
    "too_many_products": N_("Tag at most 10 products."),
    "product_unavailable": N_("One of the products is no longer on sale."),
    "invalid_media": N_("A note has up to 9 images and no video."),
    "invalid_hashtag": N_("A hashtag is letters and digits, up to 30, with no spaces or other signs."),
    "too_many_hashtags": N_("Use at most 10 hashtags."),
}
SCENES_FROM_PAGES = {"feed", "search", "share", "showcase"}


@router.get("/posts/{post_id}")
async def post_page(request: Request, post_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Response:
    post = await service.get_post(uow, post_id)
    state = await social.viewer_state(uow, viewer, [post_id])
    following = await social.follows_of(uow, viewer, [post.post.author_id])
    pinned, comments, next_cursor = await social.comments(uow, post_id, paging)
    # The buy button carries where this visit came from: the post, its author, the scene
    # (the feed or search that led here, else the post's own kind) and any share link.
    incoming = source_params(request.query_params)
    scene = incoming.get("scene")
    source = {
        "post": str(post_id),
        "creator": str(post.post.author_id),
        "scene": scene if scene in SCENES_FROM_PAGES else post.post.kind.value,
    }
    if "share" in incoming:
        source["share"] = incoming["share"]
    return render(
        request,
        "content/post.html",
        {
            "post": post,
            "state": {"liked": post_id in state.liked, "favorited": post_id in state.favorited},
            "following": post.post.author_id in following,
            "pinned": pinned,
            "comments": [c for c in comments if not (pinned and c.comment.id == pinned.comment.id)],
            "next_cursor": next_cursor,
            "buy_query": urlencode(source),
            "draft": await social.draft(uow, viewer, post_id),
            # the next comments keep the visit's scene and share link, so Buy still credits them
            "comments_base": f"/posts/{post_id}?"
            + urlencode([(k, incoming[k]) for k in ("scene", "share") if k in incoming]),
        },
    )


@router.post("/posts/{post_id}/delete")
async def delete_post(request: Request, post_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    return await act(
        request,
        uow,
        service.delete_post(uow, user, post_id),
        redirect="/studio" if user.role == Role.creator else f"/u/{user.id}",
        done=N_("Post deleted."),
    )


# ------------------------------------------------------------------ studio


@router.get("/studio")
async def studio(request: Request, creator: Creator, uow: UoW, paging: Paging) -> Response:
    posts, next_cursor = await service.user_posts(uow, creator.id, paging)
    by_post, _, total = await commerce.promotion_stats(uow, creator.id)
    clicks = await affiliate.clicks_by_post(uow, creator.id)
    balances = list((await ledger.balances(uow, creator.id)).values())
    rows = [(v, list(by_post.get(v.post.id, {}).values()), clicks.get(v.post.id, 0)) for v in posts]
    home = uow.settings.default_currency
    totals = sorted(total.values(), key=lambda t: (t.currency != home, t.currency))  # the home currency first
    context = {
        "rows": rows,
        "totals": totals,
        "next_cursor": next_cursor,
        "balances": balances,
        "default_currency": home,
    }
    return render(request, "content/studio.html", context)


FIND_LIMIT = 30  # goods a search in the picker lists


@dataclass(frozen=True, slots=True)
class _Picker:
    chosen: list[Product]
    found: list[Product]
    showcase: list[Product]
    pool: list[Product]
    matched: bool  # the search found goods, perhaps only ones already picked


async def _picker(uow: UoW, creator: Principal, picked: Sequence[uuid.UUID] = (), find: str = "") -> _Picker:
    """What the new-post form offers to tag: the products already picked (whatever page of
    the showcase or pool they are on, so a refused form, a search or a "Post about it" link
    keeps them), then goods on sale matching ``find``, then the newest of the showcase, then
    the best-paying of the pool."""
    by_id = await catalog.products_by_id(uow, list(dict.fromkeys(picked))[: service.MAX_PRODUCTS])
    chosen = [p for p in by_id.values() if p.status == ProductStatus.active]
    shown = {p.id for p in chosen}
    found: list[Product] = []
    matched = False
    if find:
        matches, _ = await catalog.list_products(uow, PageParams(None, FIND_LIMIT), None, q=find)
        matched = bool(matches)  # a match already picked is a match: it shows among the picked
        found = [p for p in matches if p.id not in shown]
        shown |= {p.id for p in found}
    entries, _ = await affiliate.showcase(uow, creator.id, PageParams(None, 50), creator)
    mine = [e.product for e in entries if e.product.status == ProductStatus.active and e.product.id not in shown]
    shown |= {e.product.id for e in entries}
    pool, _ = await affiliate.pool(uow, PageParams(None, 30))
    return _Picker(chosen, found, mine, [p for p in pool if p.id not in shown], matched)


def _tagged(values: Sequence[object]) -> list[uuid.UUID]:
    ids = []
    for raw in values:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return ids


async def _post_form(
    request: Request,
    uow: UoW,
    creator: Principal,
    picked: list[uuid.UUID],
    values: dict[str, str],
    error: str | None = None,
    *,
    find: str | None = None,
    files_dropped: bool = False,
) -> Response:
    """The new-post form: empty, or sent back with what was typed and picked and why (or
    with the goods found for ``find``)."""
    offer = await _picker(uow, creator, picked, find or "")
    context = {
        "chosen": offer.chosen,
        "found": offer.found,
        "showcase": offer.showcase,
        "pool": offer.pool,
        "form": values,
        "picked": set(picked) if error or find is not None else {p.id for p in offer.chosen},
        "error": error,
        "find": find,
        "matched": offer.matched,
        "mcn_share": await mcn.share_taken(uow, creator),  # the rates shown are what the creator keeps
        "rates": await affiliate.commission_rates(
            uow, creator.id, [*offer.chosen, *offer.found, *offer.showcase, *offer.pool], uow.now()
        ),
        "files_dropped": files_dropped,
    }
    return render(request, "content/new_post.html", context, status=422 if error else 200)


@router.get("/studio/new")
async def new_post(request: Request, creator: Creator, uow: UoW) -> Response:
    find = request.query_params.get("find", "").strip()[:100] or None
    return await _post_form(request, uow, creator, _tagged(request.query_params.getlist("tag")), {}, find=find)


def _uploads(form: FormData, name: str) -> list[UploadFile]:
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]


@router.post("/studio/new")
async def publish(request: Request, form: CsrfForm, creator: Creator, uow: UoW) -> Response:
    kind = "video" if text(form, "kind") == "video" else "note"
    values = {
        "kind": kind,
        "title": text(form, "title", 100),
        "body": text(form, "body", 5000, strip=False),
        "hashtags": text(form, "hashtags", 400),
    }
    picked = _tagged(form.getlist("product_ids"))
    # A form sent back cannot hold the files chosen (a browser never fills in a file box): say so.
    dropped = bool(_uploads(form, "files") or _uploads(form, "cover"))
    if form.get("find") is not None:  # the picker's Find button: the form comes back, nothing published
        found = text(form, "find_q", 100)
        return await _post_form(request, uow, creator, picked, values, find=found, files_dropped=dropped)
    try:
        async with uow.attempt():
            media_ids = []
            files = _uploads(form, "files")
            covers = _uploads(form, "cover")
            if kind == "video" and len(files) != 1:
                raise Invalid("A video post needs exactly one video.", code="video_required")
            if len(files) > service.MAX_IMAGES:
                raise Invalid(f"A note has up to {service.MAX_IMAGES} images.", code="invalid_media")
            for f in files:
                cover = covers[0] if kind == "video" and covers else None
                m = await service.upload_media(
                    uow,
                    creator,
                    f.file,
                    f.size or 0,
                    cover=cover.file if cover else None,
                    cover_size=(cover.size or 0) if cover else 0,
                )
                media_ids.append(m.id)
            tags = [t for t in values["hashtags"].replace("#", " ").replace(",", " ").split() if t]
            data = PostIn(
                kind=kind,
                title=values["title"],
                body=values["body"],
                media_ids=media_ids,
                product_ids=picked,
                hashtags=tags,
            )
            view = await service.create_post(uow, creator, data)
    except DomainError as exc:
        _ = gettext(request)
        message = error_text(request, exc, ERRORS)
        if exc.code == "validation_error" and "title" in (exc.fields or {}):
            message = _("Give the post a title.")
        return await _post_form(request, uow, creator, picked, values, message, files_dropped=dropped)
    except ValidationError:  # the body model refused a field (a blank title, too many tags or products)
        _ = gettext(request)
        if not values["title"].strip():
            message = _("Give the post a title.")
        else:
            message = _("Use at most 10 products and 10 hashtags, and a title of up to 100 characters.")
        return await _post_form(request, uow, creator, picked, values, message, files_dropped=dropped)
    response = see_other(f"/posts/{view.post.id}")
    _ = gettext(request)
    flash(request, response, _("Published."))
    return response
