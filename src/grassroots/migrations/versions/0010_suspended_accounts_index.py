"""an index of the suspended accounts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 17:45:00

Lists and counts of followers leave suspended accounts out in SQL (``NOT IN`` the
suspended ids): a partial index keeps that a read of the few suspended rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_users_suspended",
        "users",
        ["id"],
        sqlite_where=sa.text("disabled_at IS NOT NULL"),
        postgresql_where=sa.text("disabled_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_suspended", table_name="users")
