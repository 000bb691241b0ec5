"""the promoter's part of a paid order, kept on the order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:30:00

Reports of what promoters earned added up every order's split in Python (the newest 5000
orders at most); the part posted to the ledger is now kept on the order when it is paid,
and orders paid before are filled in from their ledger payment entries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE orders SET promoter_minor = COALESCE((
  SELECT -SUM(e.amount_minor) FROM ledger_entries AS e
  WHERE e.order_id = orders.id AND e.kind = 'payment' AND e.account = 'commission_pending'
), 0)
WHERE paid_at IS NOT NULL
"""


def upgrade() -> None:
    op.add_column("orders", sa.Column("promoter_minor", sa.BigInteger(), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), not a batch rebuild: rebuilding `orders` would drop
    # the table and, with foreign keys on, cascade into its order items.
    op.execute("ALTER TABLE orders DROP COLUMN promoter_minor")
