"""Rate windows shared by every process, and standing alerts ("held" is a new status value,
which needs no schema change).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("route", sa.String(200), primary_key=True),
        sa.Column("sent", sa.JSON, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("rate_windows")
