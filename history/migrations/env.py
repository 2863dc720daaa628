"""Alembic environment: migrate the connection :func:`history.db.open_database` hands over.

No logging configuration and no URL here: the caller owns the connection, its
transaction and its lock (see ``history/db.py``).
"""

from __future__ import annotations

from alembic import context

from history.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
