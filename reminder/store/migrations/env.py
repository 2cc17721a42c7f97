"""Alembic environment. Migrations run only programmatically (``store.engine.migrate``),
which hands over an open connection; there is no alembic.ini for users to keep."""

from __future__ import annotations

from alembic import context

from reminder.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("reminder migrations run through reminder.store.engine.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only ALTER tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
