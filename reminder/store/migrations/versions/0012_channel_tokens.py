"""Provider access tokens shared between processes (the WeCom app's gettoken).

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04

Chained after 0009 on its branch; 0010/0011 land in parallel and this must be re-chained
after them at merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_tokens",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_tokens")
