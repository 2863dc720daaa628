"""Subjects, their sessions and their progress: the history database.

- :func:`history.db.open_database` opens (creates, migrates) SQLite or PostgreSQL.
- :mod:`history.store`: add subjects, import recordings (analyse and store), list,
  erase a subject, re-analyse after a new analysis version.
- :mod:`history.trends`: a subject's key results over time and plain-language findings.
- :mod:`history.report`: the self-contained HTML progress report.
- :mod:`history.model`: a Qt-free view of a subject's history for the apps.
"""
