"""SQLite connection setup: WAL, busy timeout, foreign keys, and explicit BEGINs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# Long enough to ride out a burst of writers; "database is locked" is what users see
# when this is short (pysqlite's default is 5 s).
BUSY_TIMEOUT_MS = 30_000
# PRAGMA takes no bound parameters; this is the one statement built from a value, and
# the value is the constant above. (Statements are never built in calls: a test checks.)
_BUSY_TIMEOUT_PRAGMA = f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}"


def configure(engine: Engine, *, begin_option: str) -> None:
    """Set pragmas on every new connection and take over transaction control.

    pysqlite opens transactions lazily, only before a write, so a SELECT-then-UPDATE
    would not be atomic; we switch that off and emit BEGIN ourselves: BEGIN IMMEDIATE
    for connections carrying the `begin_option` execution option, so a writer takes
    the lock before it reads instead of failing to upgrade later.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(_BUSY_TIMEOUT_PRAGMA)
            cursor.execute("PRAGMA foreign_keys=ON")
            # In WAL mode NORMAL survives process crashes; only a power loss can roll
            # back the last commits. FULL would fsync every ingest batch.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(begin_option, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
