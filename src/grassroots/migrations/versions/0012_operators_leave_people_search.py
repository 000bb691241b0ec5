"""operators leave people search

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 21:20:00

Operator accounts are no longer indexed for people search; the ones an earlier version
indexed are taken out (on SQLite, from the trigram table too).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATOR_DOCS = (
    "SELECT id FROM search_docs WHERE kind = 'user' AND ref_id IN (SELECT id FROM users WHERE role = 'admin')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DELETE FROM search_fts WHERE rowid IN ({OPERATOR_DOCS})")  # noqa: S608 - constant SQL
    op.execute(f"DELETE FROM search_docs WHERE id IN ({OPERATOR_DOCS})")  # noqa: S608 - constant SQL


def downgrade() -> None:
    # Nothing to put back by hand: `grassroots reindex` of the older version indexes them again.
    pass
