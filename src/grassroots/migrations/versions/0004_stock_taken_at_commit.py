"""stock taken at commit on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:30:00

On PostgreSQL an order's stock is taken by a deferred constraint trigger on
``order_items``: at COMMIT, inside the server, so a best-selling SKU's row is locked only
for the commit itself (ADR 0015). SQLite takes stock with an explicit UPDATE instead.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLSTATE GR409: a conflict found at commit. MESSAGE is the error code the API returns,
# HINT its message, DETAIL the field it concerns (name=value).
TAKE_STOCK = """
CREATE OR REPLACE FUNCTION grassroots_take_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE skus SET stock = stock - NEW.quantity WHERE id = NEW.sku_id AND stock >= NEW.quantity;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'GR409', MESSAGE = 'out_of_stock',
      HINT = 'Not enough stock for one of the items.', DETAIL = 'sku_id=' || NEW.sku_id::text;
  END IF;
  RETURN NULL;
END
$$
"""
TRIGGER = """
CREATE CONSTRAINT TRIGGER order_items_take_stock AFTER INSERT ON order_items
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION grassroots_take_stock()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_STOCK)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS order_items_take_stock ON order_items")
        op.execute("DROP FUNCTION IF EXISTS grassroots_take_stock()")
