"""indexes for lists that grew with the whole table

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:20:00

A comment's replies and their count were found by a scan of every comment on the platform
(the only index led with ``post_id``); the newest products on sale, the operator's failed
refunds and a buyer's returns were sorted or filtered from whole tables.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_comments_parent", "comments", ["parent_id", "id"]),
    ("ix_products_status", "products", ["status", "id"]),
    ("ix_refunds_status", "refunds", ["status", "id"]),
    ("ix_return_requests_buyer", "return_requests", ["buyer_id", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
