"""Leaders' 批示 on escalated tasks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NAME = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "instructions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("leader", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link_id", sa.String(20)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_instructions_task", "instructions", ["plan_id", "task_id"])


def downgrade() -> None:
    op.drop_table("instructions")
