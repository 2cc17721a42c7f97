"""佐证材料: what each file came with (progress, difficulty or done), so the board and the
台账 can say so even for a completion, which has no feedback row.

Revision ID: 0011
Revises: 0009 (re-chain after 0010 when both land)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("report", sa.String(10)))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("report")
