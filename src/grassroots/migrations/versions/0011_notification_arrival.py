"""when each notification arrived

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 19:10:00

A notification is dated (and its id ordered) by when its event happened, but it arrives
when the event is delivered, which can be later. "Mark all read" now marks what had
arrived when the page was shown, so a late arrival about an older event stays unread.
Existing rows arrived, as far as anyone can tell, when they were made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE notifications SET arrived_at = created_at")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), never a batch rebuild of a table others refer to.
    op.execute("ALTER TABLE notifications DROP COLUMN arrived_at")
