"""Bodies of the social API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from grassroots.kernel.schemas import RequestModel


class FollowOut(BaseModel):
    user_id: uuid.UUID
    following: bool
    followers: int


class PersonOut(BaseModel):
    id: uuid.UUID
    handle: str
    role: str
    since: datetime | None = None


class ProfileOut(BaseModel):
    id: uuid.UUID
    handle: str
    role: str
    bio: str
    followers: int
    following: int
    posts: int
    likes_received: int
    followed_by_me: bool = Field(description="Whether the caller follows this user (false when anonymous)")
    joined_at: datetime


class ProfileIn(RequestModel):
    bio: str = Field(default="", max_length=300, examples=["茶农的女儿 · tea farmer's daughter"])


class ReactionOut(BaseModel):
    post_id: uuid.UUID
    active: bool = Field(description="Whether the caller now likes (or has favourited) the post")
    count: int


class CommentIn(RequestModel):
    body: str = Field(min_length=1, max_length=1000, examples=["这个杯子好看！"])
    reply_to: uuid.UUID | None = Field(default=None, description="A comment on the same post to reply to")


class CommentOut(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    author_id: uuid.UUID | None = Field(description="null when the comment was deleted")
    author_handle: str | None = Field(description="null when the comment was deleted")
    body: str = Field(description="Empty when the comment was deleted")
    deleted: bool
    parent_id: uuid.UUID | None
    reply_to_handle: str | None
    pinned: bool
    created_at: datetime
    replies: list[CommentOut] = Field(default_factory=list)
    reply_count: int = 0


class CommentsPage(BaseModel):
    pinned: CommentOut | None
    items: list[CommentOut]
    next_cursor: str | None = None


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    actor_handle: str | None = Field(description="null when there is no actor or the account is suspended")
    post_id: uuid.UUID | None
    post_title: str | None = Field(
        description="null when there is no post, or it is not shown (deleted, or its author is suspended)"
    )
    order_id: uuid.UUID | None
    data: dict[str, Any]
    created_at: datetime
    read: bool


class NotificationsPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread: int


class MarkReadIn(RequestModel):
    ids: list[uuid.UUID] | None = Field(default=None, max_length=200, description="Omit to mark everything read")


class MarkReadOut(BaseModel):
    marked: int
    unread: int
