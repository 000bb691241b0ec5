"""Content API: media uploads and their files, notes and short videos."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader

from grassroots.catalog.models import Product, ProductStatus
from grassroots.content import service
from grassroots.content.models import Media
from grassroots.content.schemas import CountersOut, MediaOut, PostIn, PostOut, TaggedProductOut
from grassroots.content.service import POSTING_ROLES, PostView, media_url
from grassroots.kernel.auth import CurrentUser, MaybeUser, Principal, public, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import NotFound
from grassroots.kernel.pagination import Page, Paging

router = APIRouter(prefix="/api/v1", tags=["content"])
files_router = APIRouter(tags=["content"])

Poster = Annotated[Principal, Depends(require(*POSTING_ROLES))]
MEDIA_CACHE = "public, max-age=31536000, immutable"  # keys are never reused


def media_out(m: Media) -> MediaOut:
    return MediaOut(
        id=m.id,
        url=media_url(m.key) or "",
        kind=m.kind.value,
        content_type=m.content_type,
        width=m.width,
        height=m.height,
        duration_s=m.duration_s,
        thumb_url=media_url(m.thumb_key),
    )


def tagged_product_out(p: Product) -> TaggedProductOut:
    prices = [s.price_minor for s in p.skus]
    return TaggedProductOut(
        id=p.id,
        title=p.title,
        category=p.category,
        price_minor=min(prices) if prices else 0,
        currency=p.skus[0].currency if p.skus else "CNY",
        in_stock=any(s.stock > 0 for s in p.skus),
        on_sale=p.status == ProductStatus.active,
        commission_bps=p.commission_bps,
    )


def post_out(v: PostView) -> PostOut:
    p = v.post
    return PostOut(
        id=p.id,
        author_id=p.author_id,
        author_handle=v.author_handle,
        kind=p.kind.value,
        title=p.title,
        body=p.body,
        media=[media_out(m) for m in v.media],
        products=[tagged_product_out(x) for x in v.products],
        hashtags=v.hashtags,
        cover_url=media_url(p.cover_key),
        sponsored=p.sponsored,
        created_at=p.created_at,
        counters=CountersOut(
            likes=p.like_count,
            favorites=p.favorite_count,
            comments=p.comment_count,
            shares=p.share_count,
            views=p.view_count,
            orders=p.order_count,
        ),
    )


@router.post("/media", status_code=201, response_model=MediaOut)
async def upload(
    user: Poster,
    uow: UoW,
    file: Annotated[UploadFile, File(description="An image (JPEG, PNG, WebP, GIF) or a video (MP4, WebM, MOV)")],
    cover: Annotated[UploadFile | None, File(description="A cover image for a video")] = None,
) -> MediaOut:
    """Upload an image or a video; the type is read from the bytes, not the file name."""
    media = await service.upload_media(
        uow,
        user,
        file.file,
        file.size or 0,
        cover=cover.file if cover is not None else None,
        cover_size=(cover.size or 0) if cover is not None else 0,
    )
    return media_out(media)


class MediaFileResponse(FileResponse):
    """A file with ``Range`` support that ignores a Range it cannot read and sends the whole
    file (RFC 9110 lets a server ignore one) instead of a bare plain-text 400."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # no ranges: the whole file, 200


@files_router.get("/media/{key:path}", dependencies=[Depends(public)], response_class=FileResponse)
# HEAD as well (a player or a cache asks the size first); one operation in the schema
@files_router.head("/media/{key:path}", dependencies=[Depends(public)], include_in_schema=False)
async def media_file(key: str, uow: UoW) -> FileResponse:
    """An uploaded file; supports ``Range`` so videos play and seek."""
    path = service.storage(uow).path(key)
    if path is None:
        raise NotFound("No such file.", code="media_not_found")
    return MediaFileResponse(path, headers={"cache-control": MEDIA_CACHE}, content_disposition_type="inline")


@router.post("/posts", status_code=201, response_model=PostOut)
async def create(body: PostIn, author: Poster, uow: UoW) -> PostOut:
    """Publish a note (images) or a short video, optionally tagging up to 10 products."""
    return post_out(await service.create_post(uow, author, body))


@router.get("/posts/{post_id}", response_model=PostOut)
async def get(post_id: uuid.UUID, viewer: MaybeUser, uow: UoW) -> PostOut:
    return post_out(await service.get_post(uow, post_id))


@router.delete("/posts/{post_id}", status_code=204)
async def delete(post_id: uuid.UUID, user: CurrentUser, uow: UoW) -> Response:
    await service.delete_post(uow, user, post_id)
    return Response(status_code=204)


@router.get("/users/{user_id}/posts", response_model=Page[PostOut])
async def user_posts(user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Page[PostOut]:
    views, next_cursor = await service.user_posts(uow, user_id, paging)
    return Page(items=[post_out(v) for v in views], next_cursor=next_cursor)
