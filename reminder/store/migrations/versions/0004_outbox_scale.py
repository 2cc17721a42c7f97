"""Outbox at scale: content hash for diffing syncs, partial index for the claim, change
notifications for a listening daemon (PostgreSQL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Commands (done, undo, event) and the board write completions and events; a trigger tells
# a LISTENing daemon at once, whoever wrote them.
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION reminder_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('reminder_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
TRIGGERED = ("completions", "events")


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(32)))
    op.drop_index("ix_notices_due", table_name="notices")
    op.create_index("ix_notices_pending", "notices", ["next_attempt_at", "id"],
                    postgresql_where=sa.text("status = 'pending'"),
                    sqlite_where=sa.text("status = 'pending'"))
    op.create_index("ix_notices_status", "notices", ["status", "lease_until"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        for table in TRIGGERED:
            op.execute(f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION reminder_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRIGGERED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
        op.execute("DROP FUNCTION IF EXISTS reminder_notify_change()")
    op.drop_index("ix_notices_status", table_name="notices")
    op.drop_index("ix_notices_pending", table_name="notices")
    op.create_index("ix_notices_due", "notices", ["status", "next_attempt_at"])
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("content_hash")
