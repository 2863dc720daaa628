"""Alembic migrations of the history database (run by :func:`history.db.open_database`)."""
