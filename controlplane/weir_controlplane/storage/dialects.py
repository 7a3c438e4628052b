"""The SQL constructs that differ by database: INSERT ... ON CONFLICT, a list bound as one
parameter, writing many rows in one statement, and appending many new rows."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection


def insert(dialect: str, table: sa.Table) -> postgresql_dialect.Insert | sqlite_dialect.Insert:
    """An INSERT supporting `on_conflict_do_nothing` / `on_conflict_do_update`.

    Both dialects' constructs take the same arguments, so callers write one statement.
    """
    if dialect == "postgresql":
        return postgresql_dialect.insert(table)
    if dialect == "sqlite":
        return sqlite_dialect.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r}")


def insert_rows(
    dialect: str,
    table: sa.Table,
    names: Sequence[str],
    shared: Collection[str] = (),
    computed: Mapping[str, sa.ColumnElement[Any]] | None = None,
) -> postgresql_dialect.Insert | sqlite_dialect.Insert:
    """`insert(dialect, table)` of many rows with the columns `names`, executed with
    `row_parameters(dialect, names, rows, shared)`; the `shared` columns have one value
    in every row. On PostgreSQL, a column of `computed` takes its SQL expression in
    every row and has no parameter (name it in neither `names` nor the rows).

    On PostgreSQL one statement for the whole list: `INSERT ... SELECT FROM unnest(:a,
    :b, ...)`, one array per column (a shared column bound once), so the server parses,
    plans and checks one statement where an executemany runs one per row (its foreign-key
    and conflict checks included). On SQLite an executemany of the plain INSERT, which
    costs it no round trips. Rows go in in list order, so sorted keys still lock in one
    order; ON CONFLICT DO UPDATE may touch a key only once per statement, so the rows'
    conflict keys must be distinct.
    """
    statement = insert(dialect, table)
    if dialect != "postgresql":
        return statement
    varying = [name for name in names if name not in shared]
    arrays = [sa.bindparam(name, type_=_BinaryArray(table.c[name].type)) for name in varying]
    rows = sa.func.unnest(*arrays).table_valued(*varying).render_derived(name="new_rows")
    values = [
        sa.bindparam(name, type_=table.c[name].type) if name in shared else rows.c[name]
        for name in names
    ]
    computed = computed or {}
    return statement.from_select(
        [*names, *computed], sa.select(*values, *computed.values()).select_from(rows)
    )


def row_parameters(
    dialect: str,
    names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    shared: Collection[str] = (),
) -> Any:
    """The parameters of an `insert_rows` statement: the rows themselves (an executemany)
    on SQLite; on PostgreSQL one list per column, and the first row's value of each
    `shared` one."""
    if dialect != "postgresql":
        return rows
    first = rows[0]
    return {name: first[name] if name in shared else [row[name] for row in rows] for name in names}


class _BinaryList(list[Any]):
    """A list psycopg sends in binary: its text form quotes each element in Python, about
    20 times slower for timestamps (1.4 ms for 125 of them) and 3 times for strings."""


@functools.cache
def register_postgresql_adapters() -> None:
    """Have psycopg send `_BinaryList`s in binary; call before the first connection (a
    connection copies psycopg's adapters when it opens). Without it they go as text,
    slower but the same. Not at import: SQLite deployments never load psycopg."""
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(_BinaryList, ListBinaryDumper)


class _BinaryArray(sa.types.TypeDecorator[Sequence[Any]]):
    """An array of `item_type` bound as a `_BinaryList`, each item processed as the
    column would process it (UTCDateTime's checks)."""

    impl = postgresql_dialect.ARRAY
    cache_ok = True

    def __init__(self, item_type: sa.types.TypeEngine[Any]) -> None:
        super().__init__(item_type)
        self.item_type = item_type

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[Any], Any]:
        item = self.item_type.dialect_impl(dialect).bind_processor(dialect)
        if item is None:
            return _BinaryList
        return lambda values: _BinaryList(map(item, values))


class _JsonList(sa.types.TypeDecorator[Sequence[str]]):
    """A list of strings as one bound value on SQLite: a JSON array."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Sequence[str] | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.dumps(list(value))


def in_list(
    dialect: str, column: sa.ColumnElement[str], values: Sequence[str]
) -> sa.ColumnElement[bool]:
    """`column IN values` with the whole list bound as one parameter, so the statement's
    text is the same for every length: the database parses and plans it once (psycopg
    prepares it), where an expanded IN (...) is new text for each list length.

    PostgreSQL: `column IN (SELECT unnest(:values))`; SQLite: `column IN (SELECT value
    FROM json_each(:values))`.
    """
    return _in_bound(
        dialect, column, sa.bindparam(None, list(values), type_=_list_type(dialect), unique=True)
    )


def in_named_list(dialect: str, column: sa.ColumnElement[str], name: str) -> sa.ColumnElement[bool]:
    """`in_list` with the list given at execution as the parameter `name`: for a statement
    built once (building one costs more Python time than running it)."""
    return _in_bound(dialect, column, sa.bindparam(name, type_=_list_type(dialect)))


def _list_type(dialect: str) -> sa.types.TypeEngine[Sequence[str]]:
    return _BinaryArray(sa.Text()) if dialect == "postgresql" else _JsonList()


def _in_bound(
    dialect: str, column: sa.ColumnElement[str], bound: sa.BindParameter[Sequence[str]]
) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        # Not `column = ANY(:values)`: once psycopg prepares the statement, a generic plan
        # made from statistics that predate the rows (a new deployment, a table grown
        # since its last ANALYZE) compares each candidate row with the whole array (a
        # batch's 125 keys against a run's 5,000 assets: 6 ms). The semi-join hashes the
        # list then (0.6 ms), and probes the index with it once the statistics are
        # current (0.3 ms, against 0.2 ms for ANY).
        return column.in_(sa.select(sa.func.unnest(bound)))
    if dialect == "sqlite":
        return column.in_(
            sa.select(sa.column("value", sa.Text)).select_from(sa.func.json_each(bound))
        )
    raise ValueError(f"unsupported database dialect {dialect!r}")


def append_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys), which the caller knows are new: COPY on
    PostgreSQL, one statement for any number of rows and the cheapest on both sides;
    a fixed-text executemany on SQLite."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    # What SQLAlchemy would do to each value on the way in (UTCDateTime's checks).
    decorated = [
        (index, column.type)
        for index, column in enumerate(columns)
        if isinstance(column.type, sa.types.TypeDecorator)
    ]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            for index, type_ in decorated:
                values[index] = type_.process_bind_param(values[index], conn.dialect)
            copy.write_row(values)
