"""佐证材料: supporting files attached to a progress report, a difficulty or a completion,
stored on disk by content hash; this table keeps who sent what for which task.

Revision ID: 0008
Revises: 0007 (re-chain after the 批示 migration when it lands)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("due", sa.Date),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("feedback_id", sa.Integer),
        sa.Column("link_id", sa.String(20)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("removed_at", sa.DateTime),
    )
    op.create_index("ix_evidence_task", "evidence", ["plan_id", "task_id"])
    op.create_index("ix_evidence_sha256", "evidence", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_evidence_sha256", table_name="evidence")
    op.drop_index("ix_evidence_task", table_name="evidence")
    op.drop_table("evidence")
