"""Initial schema: plans, tasks, occurrences, notices (outbox), deliveries, completions, events.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NAME = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", NAME, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("synced_at", sa.DateTime),
        sa.Column("error", sa.Text),
        sa.Column("error_at", sa.DateTime),
    )
    op.create_table(
        "tasks",
        sa.Column("plan_id", NAME, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("id", NAME, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("deadline_text", sa.Text, nullable=False),
        sa.Column("units", sa.Text, nullable=False),
    )
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("nominal", sa.Date),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("cycle", sa.String(20)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.UniqueConstraint("plan_id", "task_id", "due", name="uq_occurrence"),
    )
    op.create_index("ix_occurrences_plan_id", "occurrences", ["plan_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("plan_title", sa.Text, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("occurrence", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("addresses", sa.JSON, nullable=False),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("mobiles", sa.JSON, nullable=False),
        sa.Column("send_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(20)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("provider_code", sa.String(50)),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("lease_until", sa.DateTime),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_notices_due", "notices", ["status", "next_attempt_at"])
    op.create_index("ix_notices_occurrence", "notices", ["plan_id", "task_id", "due"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("addresses", sa.JSON, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.DateTime, nullable=False),
        sa.Column("result", sa.String(12), nullable=False),
        sa.Column("provider_code", sa.String(50)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("claimant", sa.String(200), nullable=False),
    )
    op.create_table(
        "delivery_notices",
        sa.Column("delivery_id", sa.Integer,
                  sa.ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("notice_id", sa.Integer,
                  sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_delivery_notices_notice_id", "delivery_notices", ["notice_id"])
    op.create_table(
        "completions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", NAME, nullable=False),
        sa.Column("task_id", NAME, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("done_by", sa.Text, nullable=False),
        sa.Column("done_at", sa.DateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("undone_by", sa.Text),
        sa.Column("undone_at", sa.DateTime),
    )
    op.create_index("ix_completions_occurrence", "completions", ["plan_id", "task_id", "due"])
    op.create_table(
        "events",
        sa.Column("plan_id", NAME, primary_key=True),
        sa.Column("task_id", NAME, primary_key=True),
        sa.Column("event_date", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("events", "completions", "delivery_notices", "deliveries", "notices",
                  "occurrences", "tasks", "plans"):
        op.drop_table(table)
