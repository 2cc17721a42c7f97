"""签收 (a unit's receipt of a task) and 延期申请 (a unit's request for a new date, and the
coordinator's decision on it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime, nullable=False),
        sa.Column("link_id", sa.String(20)),
        sa.UniqueConstraint("plan_id", "task_id", "unit", name="uq_signatures_unit"),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("current", sa.Date, nullable=False),
        sa.Column("requested", sa.Date, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("progress", sa.Text, nullable=False, server_default=""),
        sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("link_id", sa.String(20)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_extensions_task", "extensions", ["plan_id", "task_id"])
    if op.get_bind().dialect.name == "postgresql":
        # A 签收 or an approved extension re-plans a running daemon at once, as a completion
        # does (the function comes with migration 0004).
        for table in ("signatures", "extensions"):
            op.execute(f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION reminder_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("signatures", "extensions"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.drop_index("ix_extensions_task", table_name="extensions")
    op.drop_table("extensions")
    op.drop_table("signatures")
