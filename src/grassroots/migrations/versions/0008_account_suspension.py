"""why and by whom an account was suspended

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 16:00:00

Operators suspend and reinstate accounts; ``users.disabled_at`` already said when, these
say why (shown to other operators) and which operator did it. Products get a status
``suspended`` (no schema change: statuses are checked by the application).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("disabled_reason", sa.String(500), nullable=True))
    op.add_column("users", sa.Column("disabled_by", sa.Uuid(), nullable=True))


def downgrade() -> None:
    # Releases before 0008 know no product status `suspended`; archived keeps such goods off
    # sale (their accounts stay disabled), and their suppliers can put them back on sale.
    op.execute("UPDATE products SET status = 'archived' WHERE status = 'suspended'")
    # Plain DROP COLUMN (SQLite 3.35+), never a batch rebuild of a table others refer to.
    op.execute("ALTER TABLE users DROP COLUMN disabled_by")
    op.execute("ALTER TABLE users DROP COLUMN disabled_reason")
