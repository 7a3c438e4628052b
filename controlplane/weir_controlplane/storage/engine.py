"""Engines and transactions for the two supported databases.

>>> db = Database(create_engine("sqlite:///:memory:"))
>>> with db.write() as conn:
...     _ = conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from weir_controlplane.storage import sqlite_connection
from weir_controlplane.storage.dialects import register_postgresql_adapters
from weir_controlplane.storage.errors import (
    DatabaseUnavailableError,
    InvalidDatabaseUrlError,
    StorageError,
)

DATABASE_URL_ENV = "WEIR_DATABASE_URL"
HOME_ENV = "WEIR_HOME"

# Enough for a control plane's API threads plus its daemons; overflow absorbs bursts.
POSTGRES_POOL = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, "pool_recycle": 1800}

_WRITE = "weir_write"
# One snapshot for every statement of a read (PostgreSQL; see `Database.snapshot`).
_SNAPSHOT = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def weir_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".weir").expanduser()


def default_database_url() -> str:
    """`$WEIR_DATABASE_URL`, else SQLite at `$WEIR_HOME/weir.db` (`~/.weir/weir.db`)."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return configured
    return f"sqlite:///{weir_home() / 'weir.db'}"


def create_engine(url: str | None = None, **engine_options: Any) -> Engine:
    """An engine for `url` (default: `default_database_url()`), set up for Weir.

    `postgresql://` and `postgres://` URLs use the psycopg 3 driver. SQLite files get
    their directory created, WAL mode, a busy timeout and foreign keys.
    """
    try:
        parsed = make_url(url or default_database_url())
    except (sa.exc.ArgumentError, ValueError):
        # SQLAlchemy's message quotes the whole string, password included.
        raise InvalidDatabaseUrlError(
            "the database URL does not parse; expected sqlite:///PATH or "
            "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")

    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **engine_options)
        sqlite_connection.configure(engine, begin_option=_WRITE)
        # Switch the file to WAL now, on one connection: done lazily by several at once,
        # the switch (it needs an exclusive lock) can deadlock with a writer, and SQLite
        # answers "database is locked" without waiting.
        with engine.connect():
            pass
        return engine
    if parsed.get_backend_name() == "postgresql":
        register_postgresql_adapters()
        return sa.create_engine(parsed, **{**POSTGRES_POOL, **engine_options})
    raise InvalidDatabaseUrlError(
        f"unsupported database {parsed.get_backend_name()!r}: use a sqlite:/// or postgresql:// URL"
    )


def masked(url: str) -> str:
    """`url` fit for a log or an error message: its password, if any, shown as ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(a database URL that does not parse)"


def _is_connection_loss(error: sa.exc.DBAPIError, dialect: str) -> bool:
    """Whether `error` says the server is gone rather than that the statement is wrong.

    On PostgreSQL an OperationalError is about the connection (refused, terminated by an
    administrator's shutdown, closed mid-query); on SQLite it also covers a bad schema,
    so there only a connection SQLAlchemy itself judged dead counts.
    """
    if error.connection_invalidated:
        return True
    return dialect == "postgresql" and isinstance(
        error, (sa.exc.OperationalError, sa.exc.InterfaceError)
    )


@contextmanager
def _unwrapped_storage_errors(dialect: str) -> Iterator[None]:
    """Re-raise our own errors (say, a naive datetime) that SQLAlchemy wrapped on bind, and
    a lost database connection as `DatabaseUnavailableError`, which callers may retry."""
    try:
        yield
    except sa.exc.StatementError as error:
        if isinstance(error.orig, StorageError):
            raise error.orig from error
        if isinstance(error, sa.exc.DBAPIError) and _is_connection_loss(error, dialect):
            raise DatabaseUnavailableError() from error
        raise


class Database:
    """An engine plus the two kinds of transaction storage uses.

    `write()` takes SQLite's write lock up front (BEGIN IMMEDIATE) so that a
    read-then-write transaction never fails to upgrade its lock; on PostgreSQL both
    are ordinary READ COMMITTED transactions and writers lock the rows they touch.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps
        # in steps of up to 100 ms (busy_timeout). Queuing this process's writers here
        # hands the lock over at once, so a heartbeat behind an event batch waits only
        # for that batch.
        self._writers: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._writers, _unwrapped_storage_errors(self.dialect), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with _unwrapped_storage_errors(self.dialect), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read whose statements all see one moment of the database: for answers put
        together from several tables, which a commit between two statements would
        otherwise show half old and half new.

        SQLite's read transaction already holds one snapshot from its first read (WAL). On
        PostgreSQL, READ COMMITTED takes a snapshot per statement, so this one runs at
        REPEATABLE READ, read only: such a transaction never fails to serialize, and
        psycopg sends the level with its BEGIN (no round trip of its own).
        """
        if self.dialect != "postgresql":
            with self.read() as conn:
                yield conn
            return
        with (
            _unwrapped_storage_errors(self.dialect),
            self.engine.connect().execution_options(**_SNAPSHOT) as conn,
            conn.begin(),
        ):
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
