"""延期申请: the date the coordinator approved, which may differ from the one the unit asked
for (批准延期至…); NULL while pending or rejected, and on rows approved before this column
(those were approved as asked, so readers fall back to ``requested``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("extensions") as batch:
        batch.add_column(sa.Column("approved", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("extensions") as batch:
        batch.drop_column("approved")
