"""one pending MCN offer per creator and MCN

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:00:00

An MCN has at most one unanswered offer to a creator: a second one (a double tap, or new
terms) is refused by the database, not by a read that two requests can both pass. Older
duplicates are ended first (by the MCN, as superseded by its newest offer).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUPERSEDED = """
UPDATE mcn_contracts SET status = 'terminated', ended_at = created_at, ended_by = mcn_id
WHERE status = 'pending' AND EXISTS (
  SELECT 1 FROM mcn_contracts AS newer
  WHERE newer.mcn_id = mcn_contracts.mcn_id AND newer.creator_id = mcn_contracts.creator_id
    AND newer.status = 'pending' AND newer.id > mcn_contracts.id
)
"""


def upgrade() -> None:
    op.execute(SUPERSEDED)
    with op.batch_alter_table("mcn_contracts", schema=None) as batch_op:
        batch_op.create_index(
            "uq_mcn_contracts_one_pending_offer",
            ["mcn_id", "creator_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("mcn_contracts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_mcn_contracts_one_pending_offer",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
