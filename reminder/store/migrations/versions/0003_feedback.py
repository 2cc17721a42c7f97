"""Units answer back: which signed link marked a completion, the coordinator's confirmation,
and the units' progress reports and difficulties.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME = sa.String(200)


def upgrade() -> None:
    with op.batch_alter_table("completions") as batch:
        batch.add_column(sa.Column("link_id", sa.String(20)))
        batch.add_column(sa.Column("confirmed_by", sa.Text))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime))
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("due", sa.Date),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link_id", sa.String(20)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feedback_task", "feedback", ["plan_id", "task_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    with op.batch_alter_table("completions") as batch:
        for column in ("confirmed_at", "confirmed_by", "link_id"):
            batch.drop_column(column)
