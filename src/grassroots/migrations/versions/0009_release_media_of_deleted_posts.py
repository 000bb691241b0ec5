"""media of posts deleted before deleting a post removed them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 17:00:00

Deleting a post now removes its photos and video unless another post shows them. Posts
deleted before kept theirs, public at their addresses: they are detached here, and the
hourly purge of unattached uploads then removes their rows and files.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM post_media WHERE post_id IN (SELECT id FROM posts WHERE deleted_at IS NOT NULL)")
    op.execute("UPDATE posts SET cover_key = NULL WHERE deleted_at IS NOT NULL")


def downgrade() -> None:
    pass  # what was removed was meant to be gone
