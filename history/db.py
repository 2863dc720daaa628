"""Opening the history database: where it is, private file rights, SQLite locking, migrations.

SQLite by default at ``$XDG_DATA_HOME/pelviscope/history.sqlite`` (folder 0700, file
0600), or any SQLAlchemy URL (``postgresql://user@host/db`` for a practice or a study
with several machines). Opening runs the Alembic migrations shipped in
``history/migrations`` up to the newest schema, under a lock, so two processes opening
a new database at once create it once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

#: Environment variable naming the database URL (the ``--db`` default).
DB_ENV = "PELVISCOPE_DB"
#: Seconds a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_S = 60.0
#: Key of the PostgreSQL advisory lock held while migrating (any constant).
_PG_MIGRATION_LOCK = 0x70656C76


class DatabaseError(Exception):
    """The database cannot be opened or used (bad URL, no server, no rights): one line."""


def default_path() -> Path:
    """``$XDG_DATA_HOME/pelviscope/history.sqlite`` (by default under ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "pelviscope" / "history.sqlite"


def resolve_url(db: str | None) -> URL:
    """The SQLAlchemy URL for ``--db`` (a URL or a file path), ``$PELVISCOPE_DB`` or the default.

    ``postgresql://`` means psycopg 3 (``postgresql+psycopg://``).

    Raises
    ------
    DatabaseError
        ``db`` is neither a URL SQLAlchemy knows nor a file path.
    """
    db = db or os.environ.get(DB_ENV) or None
    if db is None:
        return URL.create("sqlite", database=str(default_path()))
    if "://" not in db:  # a plain file path means SQLite
        return URL.create("sqlite", database=str(Path(db).expanduser()))
    try:
        url = make_url(db)
    except ArgumentError:
        raise DatabaseError(f"--db {db!r}: not a database URL or file path") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def shown(url: URL) -> str:
    """``url`` for messages, without its password."""
    return url.render_as_string(hide_password=True)


def _private_sqlite_file(url: URL, *, default: bool) -> None:
    """Create the SQLite file 0600 (and the default folder 0700) before SQLite does."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if default:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    elif not path.parent.is_dir():
        raise DatabaseError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise DatabaseError(f"{path}: is a folder, expected a database file")
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_events(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, secure delete; BEGIN IMMEDIATE for every transaction.

    pysqlite's own transaction handling starts transactions late and lets two writers
    deadlock on the upgrade from reading to writing (SQLITE_BUSY at once, whatever the
    timeout). Taking the write lock at BEGIN makes writers queue on the busy timeout
    instead; readers are never blocked in WAL mode.
    """

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Erased subjects are overwritten with zeros in the file, not only unlinked.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Database:
    """An open, migrated history database.

    Attributes
    ----------
    engine : Engine
        The SQLAlchemy engine (parameters hidden from error messages and logs).
    url : URL
        Where it is.
    """

    engine: Engine
    url: URL

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def scrub(self) -> bool:
        """After an erasure: leave no copy of deleted rows in the database's files.

        SQLite (``secure_delete`` zeroed the freed pages): fold the write-ahead log into
        the file and empty it. PostgreSQL: ``VACUUM FULL`` rewrites the two tables
        without the deleted rows (the server's own write-ahead log and any backups are
        the server's; they age out by its settings). Returns False when that could not
        be done now (e.g. another session holds a table for more than 10 s): the rows are
        deleted all the same, and the space is reclaimed by the server's next vacuum.
        """
        # Outside any transaction: neither a checkpoint nor a VACUUM runs inside one.
        raw = self.engine.raw_connection()
        try:
            if self.is_sqlite:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            elif self.engine.dialect.name == "postgresql":
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
                cur = raw.cursor()
                cur.execute("SET lock_timeout = '10s'")
                cur.execute("VACUUM FULL sessions, subjects")
        except Exception as exc:
            if not isinstance(exc, self.engine.dialect.loaded_dbapi.Error):
                raise
            return False
        finally:
            raw.close()
        return True

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: The newest migration in ``history/migrations/versions`` (a test checks they agree).
HEAD_REVISION = "0001"


def _at_head(engine: Engine) -> bool:
    """Whether the schema is the newest already (then Alembic need not even be loaded)."""
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False
    return found == [HEAD_REVISION]


def _migrate(engine: Engine) -> None:
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "history:migrations")
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the write lock, held throughout
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_database(db: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and create or upgrade) the history database.

    Parameters
    ----------
    db : str, optional
        A SQLAlchemy URL (``sqlite:///path``, ``postgresql://user@host:port/name``) or a
        file path; None for ``$PELVISCOPE_DB`` or the default SQLite file.
    migrate : bool
        Bring the schema to the newest version (the default).

    Raises
    ------
    DatabaseError
        One line: the URL is bad, the server cannot be reached, the file cannot be opened.
    """
    url = resolve_url(db)
    try:
        if url.get_backend_name() == "sqlite":
            _private_sqlite_file(url, default=db is None and DB_ENV not in os.environ)
            engine = create_engine(
                url,
                hide_parameters=True,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            )
            _sqlite_events(engine)
        else:
            engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
    except ImportError:
        raise DatabaseError(
            f"--db {shown(url)}: no driver for {url.drivername!r} is installed "
            "(SQLite and PostgreSQL are)"
        ) from None
    except ArgumentError as exc:
        raise DatabaseError(f"--db {shown(url)}: {exc}") from None
    except OSError as exc:
        raise DatabaseError(f"{url.database}: {exc.strerror or exc}") from None
    try:
        if migrate:
            _migrate(engine)
        else:
            with engine.connect():
                pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"{shown(url)}: {reason(exc)}") from None
    return Database(engine, url)


def reason(exc: SQLAlchemyError) -> str:
    """The driver's own first line of a database error (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
