"""Content use cases: uploading media, publishing notes and short videos that tag
products (种草), reading them with live product facts, and their counters."""

from __future__ import annotations

import io
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio.to_thread

from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.content import media as inspector
from grassroots.content import repository
from grassroots.content.models import Media, MediaKind, Post, PostHashtag, PostKind, PostMedia, PostProduct
from grassroots.content.schemas import PostIn
from grassroots.content.storage import LocalStorage, MediaStorage
from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import DomainError, Forbidden, Invalid, NotFound
from grassroots.kernel.ids import new_id
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.text import shows_nothing
from grassroots.kernel.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Select

MAX_PRODUCTS = 10
MAX_IMAGES = 9
MAX_HASHTAGS = 10
POSTING_ROLES = (Role.creator, Role.consumer)
MAX_HASHTAG_LENGTH = 30


def _is_hashtag(tag: str) -> bool:
    """Letters of any script with their combining marks (हिंदी, ที่นี่, café), digits, ``_``
    and the joiners some scripts need between letters (می‌خواهم); it starts with a letter,
    a digit or ``_``, so no tag is only marks."""
    if not 0 < len(tag) <= MAX_HASHTAG_LENGTH or (unicodedata.category(tag[0])[0] not in "LN" and tag[0] != "_"):
        return False
    return all(c in "_\u200c\u200d" or unicodedata.category(c)[0] in "LMN" for c in tag)


class TooLarge(DomainError):
    status = 413
    default_code = "too_large"


class UnsupportedMedia(DomainError):
    status = 415
    default_code = "unsupported_media"


@cache
def _local_storage(root: str) -> LocalStorage:
    return LocalStorage(Path(root))


def storage(uow: UnitOfWork) -> MediaStorage:
    return _local_storage(str(uow.settings.data_dir / "media"))


def media_url(key: str | None) -> str | None:
    return f"/media/{key}" if key else None


# ------------------------------------------------------------------ media


async def upload_media(
    uow: UnitOfWork, owner: Principal, file: BinaryIO, size: int, cover: BinaryIO | None = None, cover_size: int = 0
) -> Media:
    """Store an image (with a thumbnail) or a video (with the optional cover image as its
    thumbnail). The type comes from the bytes; nothing is written for a refused file, and
    files written are removed again if the transaction does not commit."""
    s = uow.settings
    if size > max(s.media_max_image_bytes, s.media_max_video_bytes):
        raise TooLarge("The file is too large.")
    try:
        found = await anyio.to_thread.run_sync(inspector.inspect, file)
    except inspector.Unsupported as exc:
        raise UnsupportedMedia(
            f"Upload a JPEG, PNG, WebP or GIF image, or an MP4, WebM or MOV video ({exc})."
        ) from None
    limit = s.media_max_image_bytes if found.kind == "image" else s.media_max_video_bytes
    if size > limit:
        raise TooLarge(f"{found.kind.capitalize()}s may be at most {limit // (1024 * 1024)} MB.")
    thumb_source: BinaryIO | None = file if found.kind == "image" else None
    if cover is not None and found.kind == "image":  # an image is its own cover
        raise Invalid("A cover goes with a video, not an image.", code="cover_not_allowed", fields={"cover": "image"})
    if cover is not None:
        if cover_size > s.media_max_image_bytes:
            raise TooLarge("The cover image is too large.")
        try:
            cover_found = await anyio.to_thread.run_sync(inspector.inspect, cover)
        except inspector.Unsupported:
            raise UnsupportedMedia(
                "The cover must be a JPEG, PNG, WebP or GIF image.", fields={"cover": "not an image"}
            ) from None
        if cover_found.kind != "image":
            raise UnsupportedMedia("The cover must be an image.", fields={"cover": "not an image"})
        thumb_source = cover
    media_id = new_id()
    prefix = media_id.hex[-2:]
    key = f"{prefix}/{media_id}.{found.extension}"
    thumb_key = f"{prefix}/{media_id}-thumb.jpg" if thumb_source is not None else None
    store = storage(uow)
    thumb = None
    if thumb_source is not None:
        try:
            thumb = await anyio.to_thread.run_sync(inspector.thumbnail, thumb_source)
        except inspector.Unsupported:
            if thumb_source is cover:
                raise UnsupportedMedia(
                    "The cover image is damaged or cut short.", fields={"cover": "not a readable image"}
                ) from None
            raise UnsupportedMedia("The image is damaged or cut short.") from None

    original: BinaryIO = file
    if found.kind == "image":  # published originals are public: no GPS position, no camera
        file.seek(0)
        original = io.BytesIO(await anyio.to_thread.run_sync(inspector.strip_metadata, file.read(), found.content_type))
        size = original.getbuffer().nbytes

    def write() -> None:
        original.seek(0)
        store.save(key, original)
        if thumb_key and thumb is not None:
            store.save(thumb_key, io.BytesIO(thumb))

    async def undo() -> None:
        for k in (key, thumb_key):
            if k:
                await anyio.to_thread.run_sync(store.delete, k)

    uow.on_rollback(undo)
    await anyio.to_thread.run_sync(write)
    record = Media(
        id=media_id,
        owner_id=owner.id,
        kind=MediaKind(found.kind),
        content_type=found.content_type,
        size_bytes=size,
        width=found.width,
        height=found.height,
        duration_s=found.duration_s,
        key=key,
        thumb_key=thumb_key,
        created_at=uow.now(),
    )
    await repository.add(uow.session, record)
    return record


# ------------------------------------------------------------------ posts


def _hashtags(raw: Sequence[str]) -> list[str]:
    tags: list[str] = []
    for t in raw:
        tag = unicodedata.normalize("NFC", t.strip().lstrip("#").strip().lower())
        if not tag:
            continue
        if not _is_hashtag(tag):
            raise Invalid(
                f"#{tag} is not a hashtag: letters and digits, up to 30.",
                code="invalid_hashtag",
                fields={"hashtags": tag[:30]},
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_HASHTAGS:
        raise Invalid(f"At most {MAX_HASHTAGS} hashtags.", code="too_many_hashtags", fields={"hashtags": "too many"})
    return tags


async def create_post(uow: UnitOfWork, author: Principal, data: PostIn) -> PostView:
    if author.role not in POSTING_ROLES:
        raise Forbidden("Creators and shoppers post; this account's role does not.", code="forbidden_role")
    title = data.title.strip()
    if shows_nothing(title):  # spaces or zero-width characters alone: a row nobody can tap
        raise Invalid("The title is empty.", code="validation_error", fields={"title": "empty"})
    media_ids = list(dict.fromkeys(data.media_ids))
    found = await repository.get_media(uow.session, media_ids, share_lock=True)
    for mid in media_ids:
        m = found.get(mid)
        if m is None or m.owner_id != author.id:
            raise Invalid("Use media you uploaded yourself.", code="unknown_media", fields={"media_ids": str(mid)})
    media = [found[mid] for mid in media_ids]
    videos = [m for m in media if m.kind == MediaKind.video]
    if data.kind == "video":
        if len(media) != 1 or len(videos) != 1:
            raise Invalid(
                "A video post has exactly one video.", code="video_required", fields={"media_ids": "one video"}
            )
    elif videos or len(media) > MAX_IMAGES:
        raise Invalid(
            f"A note has up to {MAX_IMAGES} images and no video.",
            code="invalid_media",
            fields={"media_ids": "images only"},
        )
    product_ids = list(dict.fromkeys(data.product_ids))
    if product_ids and author.role != Role.creator:
        raise Forbidden("Only creators tag products in posts.", code="tagging_not_allowed")
    if len(product_ids) > MAX_PRODUCTS:
        raise Invalid(
            f"At most {MAX_PRODUCTS} products per post.", code="too_many_products", fields={"product_ids": "too many"}
        )
    products = await catalog.products_by_id(uow, product_ids)
    for pid in product_ids:
        if pid not in products or products[pid].status != ProductStatus.active:
            raise Invalid("Tag only products on sale.", code="product_unavailable", fields={"product_ids": str(pid)})
    tags = _hashtags(data.hashtags)
    post_id = new_id()
    cover = media[0].thumb_key if media else None
    post = Post(
        id=post_id,
        author_id=author.id,
        kind=PostKind(data.kind),
        title=title,
        body=data.body.strip(),
        cover_key=cover,
        sponsored=False,
        created_at=uow.now(),
        like_count=0,
        favorite_count=0,
        comment_count=0,
        share_count=0,
        view_count=0,
        order_count=0,
    )
    await repository.add(
        uow.session,
        post,
        *(PostMedia(post_id=post_id, media_id=m.id, position=i) for i, m in enumerate(media)),
        *(PostProduct(post_id=post_id, product_id=pid, position=i) for i, pid in enumerate(product_ids)),
        *(PostHashtag(post_id=post_id, tag=t) for t in tags),
    )
    uow.emit("content.post_published", {"post_id": post_id, "author_id": author.id})
    return PostView(post, author.handle, media, [products[p] for p in product_ids], sorted(tags))  # as ``views``


@dataclass
class PostView:
    post: Post
    author_handle: str
    media: list[Media] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


async def views(uow: UnitOfWork, post_ids: Sequence[uuid.UUID], *, of_suspended: bool = False) -> list[PostView]:
    """Posts with their media, live products and hashtags, in the order asked (deleted
    posts, and unless ``of_suspended`` those of suspended accounts, are left out): a fixed
    number of queries however many posts."""
    posts = await repository.posts(uow.session, post_ids)
    author_ids = list({p.author_id for p in posts.values()})
    handles = await (identity.handles if of_suspended else identity.active_handles)(uow, author_ids)
    ids = [pid for pid in post_ids if pid in posts and posts[pid].author_id in handles]
    if not ids:
        return []
    media = await repository.media_of(uow.session, ids)
    product_ids = await repository.product_ids_of(uow.session, ids)
    tags = await repository.hashtags_of(uow.session, ids)
    products = await catalog.listed_products(uow, [p for ps in product_ids.values() for p in ps])
    return [
        PostView(
            posts[i],
            handles[posts[i].author_id],
            media[i],
            [products[p] for p in product_ids[i] if p in products],
            sorted(tags[i]),
        )
        for i in ids
    ]


async def get_post(uow: UnitOfWork, post_id: uuid.UUID) -> PostView:
    found = await views(uow, [post_id])
    if not found:
        raise NotFound("No such post.", code="post_not_found")
    return found[0]


async def delete_post(uow: UnitOfWork, author: Principal, post_id: uuid.UUID) -> None:
    # Locked: of two deletes at once one deletes (and tells the others); the other is a 404.
    post = await repository.get_post(uow.session, post_id, lock=True)
    if post is None or post.deleted_at is not None:
        raise NotFound("No such post.", code="post_not_found")
    if post.author_id != author.id and author.role != Role.admin:
        raise Forbidden("Only the author deletes a post.", code="not_author")
    post.deleted_at = uow.now()
    post.cover_key = None
    # Its photos and video were public at fixed addresses: they go with it (files once this
    # commits), unless another of the author's posts still shows them.
    _remove_files_after_commit(uow, await repository.release_media_of(uow.session, post_id))
    uow.emit("content.post_deleted", {"post_id": post_id})


async def user_posts(uow: UnitOfWork, user_id: uuid.UUID, params: PageParams) -> tuple[list[PostView], str | None]:
    """A person's posts, newest first; 404 for no such account (or a suspended one)."""
    if not await identity.active_handles(uow, [user_id]):
        raise NotFound("No such user.", code="user_not_found")
    rows, next_cursor = await repository.page_by_author(uow.session, user_id, params)
    return await views(uow, [p.id for p in rows]), next_cursor


# ------------------------------------------------------------------ used by other domains


async def live_post(uow: UnitOfWork, post_id: uuid.UUID, *, lock: bool = False) -> Post:
    """The post unless deleted; ``lock`` holds its row until commit, so changes that must
    see each other (pinning a comment) take turns."""
    post = await repository.get_post(uow.session, post_id, lock=lock)
    if post is None or post.deleted_at is not None:
        raise NotFound("No such post.", code="post_not_found")
    if await identity.is_suspended(uow, post.author_id):  # hidden with its author
        raise NotFound("No such post.", code="post_not_found")
    return post


async def tagged_products(uow: UnitOfWork, post_id: uuid.UUID) -> list[uuid.UUID]:
    return (await repository.product_ids_of(uow.session, [post_id]))[post_id]


COUNTERS = {
    "likes": "like_count",
    "favorites": "favorite_count",
    "comments": "comment_count",
    "shares": "share_count",
    "views": "view_count",
    "orders": "order_count",
}


async def bump(uow: UnitOfWork, post_id: uuid.UUID, **deltas: int) -> None:
    """Move a post's counters (``likes=1``, ``comments=-1``) by atomic increments."""
    await repository.bump(uow.session, post_id, {COUNTERS[k]: v for k, v in deltas.items()})


async def bump_many(uow: UnitOfWork, counter: str, deltas: dict[uuid.UUID, int]) -> None:
    for post_id, delta in sorted(deltas.items()):  # a fixed order: no lock-order deadlocks
        await repository.bump(uow.session, post_id, {COUNTERS[counter]: delta})


async def counters(uow: UnitOfWork, post_id: uuid.UUID) -> dict[str, int]:
    values = await repository.counters(uow.session, post_id)
    return {name: values[column] for name, column in COUNTERS.items()}


async def author_totals(uow: UnitOfWork, author_id: uuid.UUID) -> tuple[int, int]:
    """How many live posts an author has, and the likes they have received."""
    return await repository.author_totals(uow.session, author_id)


async def titles(uow: UnitOfWork, post_ids: Sequence[uuid.UUID], *, live_only: bool = False) -> dict[uuid.UUID, str]:
    """Post titles by id; ``live_only`` leaves out the posts that are not shown (deleted, or
    by a suspended account), so whatever names one may link to it."""
    hidden = identity.suspended_ids() if live_only else None
    return await repository.titles(uow.session, post_ids, hidden_authors=hidden)


async def posts_by_authors(
    uow: UnitOfWork, author_ids: Sequence[uuid.UUID], params: PageParams
) -> tuple[list[PostView], str | None]:
    rows, next_cursor = await repository.page_by_authors(uow.session, author_ids, params)
    return await views(uow, [p.id for p in rows]), next_cursor


async def recent_posts(uow: UnitOfWork, since: datetime, limit: int) -> list[Post]:
    """Live posts published since ``since``, newest first (the discover feed's candidates)."""
    return await repository.recent(uow.session, since, limit)


async def live_post_ids(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The posts among ``ids`` that may be shown: not deleted, nor by a suspended account."""
    authors = await repository.live_authors(uow.session, ids)
    hidden = await identity.suspended_among(uow, list(set(authors.values())))
    return {post_id for post_id, author_id in authors.items() if author_id not in hidden}


def live_ids() -> Select[Any]:
    """The ids of posts that may be shown (not deleted, nor by a suspended account), as a
    subquery other domains filter by in SQL, so a page of a list stays full."""
    return repository.live_ids(identity.suspended_ids())


async def live_posts_page(uow: UnitOfWork, params: PageParams) -> tuple[list[Post], str | None]:
    """Every live post, newest first, a page at a time (for re-indexing)."""
    return await repository.page_live(uow.session, params)


UNATTACHED_GRACE = timedelta(days=1)  # time to publish what was uploaded


async def purge_unattached_media(uow: UnitOfWork, limit: int = 500) -> int:
    """Remove uploads no post used within a day, and their files once that commits."""
    taken = await repository.take_unattached_media(uow.session, uow.now() - UNATTACHED_GRACE, limit)
    _remove_files_after_commit(uow, taken)
    return len(taken)


def _remove_files_after_commit(uow: UnitOfWork, media: Sequence[Media]) -> None:
    keys = [k for m in media for k in (m.key, m.thumb_key) if k]
    store = storage(uow)

    async def remove_files() -> None:
        for k in keys:
            await anyio.to_thread.run_sync(store.delete, k)

    if keys:
        uow.after_commit(remove_files)
