"""Many rows in one executemany of plain tuples, for writes of thousands of rows at once.

SQLAlchemy's compiled executemany builds a parameter dict per row and runs every bound
type's processor on every value, which for an automation tick's 10,000 states costs more
than the database's own work. Here a value every row shares (the deployment, the time) is
processed once, the per-row values once each, and the statement is plain SQL that SQLite
and PostgreSQL both read (`INSERT ... ON CONFLICT (...) DO UPDATE SET c = excluded.c`).

On SQLite the rows go in a few hundred at a time as one `INSERT ... SELECT ?, ?, column1,
... FROM (VALUES (...), (...))`: the shared values are bound once per statement, not once
per row, and one statement steps through its rows without executemany's reset and rebind
of each (for a tick's 10,000 evaluation rows, about half of the driver's time).

Example::

    insert_many(conn, automation_asset_state, {"deployment_id": 1, "updated_at": now},
                ["asset_key", "state"], [("a", {...}), ("b", {...})],
                conflict=["deployment_id", "asset_key"])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

_Processor = Callable[[Any], Any] | None
# Bound values per SQLite statement: within the 999 that older SQLite builds allow.
_VALUES_PER_STATEMENT = 999


def insert_many(
    conn: Connection,
    table: sa.Table,
    shared: Mapping[str, Any],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    conflict: Sequence[str] = (),
    encoded: Collection[str] = (),
) -> None:
    """Insert `rows` (values for `columns`, in order) with `shared` in every row; with
    `conflict`, a row whose `conflict` columns exist already updates its other columns.
    The `encoded` columns' values are given as the database takes them (JSON documents
    as their text), so they are not processed again."""
    dialect = conn.dialect
    names = [*shared, *columns]
    shared_values = tuple(_processor(table, name, dialect)(v) for name, v in shared.items())
    processors = [
        _same if name in encoded else _repeating(_processor(table, name, dialect))
        for name in columns
    ]
    quote = dialect.identifier_preparer.quote
    into = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
    upsert = ""
    if conflict:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in names if c not in conflict)
        upsert = f" ON CONFLICT ({', '.join(map(quote, conflict))}) DO UPDATE SET {updates}"
    given = list(rows)
    if not given:
        return
    # Column by column: a column without processing is taken as it is, the others through
    # one `map` each (no call per value in Python but the processors' own); `strict`
    # refuses a row of another length.
    processed = [
        column if process is _same else tuple(map(process, column))
        for process, column in zip(processors, zip(*given, strict=True), strict=True)
    ]
    if dialect.name == "sqlite":
        _insert_values(conn, into, upsert, shared_values, processed)
        return
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    sql = f"{into}VALUES ({', '.join([mark] * len(names))}){upsert}"
    # The shared values repeat without end: the processed columns set the length.
    params = list(zip(*map(itertools.repeat, shared_values), *processed, strict=False))
    conn.exec_driver_sql(sql, params)


def _insert_values(
    conn: Connection,
    into: str,
    upsert: str,
    shared_values: tuple[Any, ...],
    columns: Sequence[Sequence[Any]],
) -> None:
    """`insert_many`'s rows on SQLite (their values processed, column by column), a few
    hundred at a time: each statement selects from a VALUES list the columns that vary,
    and binds once the shared values and those of any column with one value in every
    row (most of a tick's evaluation rows request nothing and name no error)."""
    selected = ["?"] * len(shared_values)
    bound = list(shared_values)
    varying: list[Sequence[Any]] = []
    for i, column in enumerate(columns):
        first = column[0]
        # (One value by equality and by type: 1, 1.0 and True are equal, not the same.)
        alike = column.count(first) == len(column) and set(map(type, column)) == {type(first)}
        if alike and (varying or i < len(columns) - 1):  # (a VALUES list needs a column)
            selected.append("?")
            bound.append(first)
        else:
            varying.append(column)
            selected.append(f"column{len(varying)}")
    width = len(varying)
    flat = list(itertools.chain.from_iterable(zip(*varying, strict=True)))
    per = max(1, (_VALUES_PER_STATEMENT - len(bound)) // width) * width  # whole rows
    row = f"({', '.join(['?'] * width)})"
    texts: dict[int, str] = {}  # by rows: every statement but the last has the same text
    for start in range(0, len(flat), per):
        chunk = flat[start : start + per]
        count = len(chunk) // width
        sql = texts.get(count)
        if sql is None:
            # `WHERE true`: without it SQLite would read ON CONFLICT as the join's.
            values = f"(VALUES {', '.join([row] * count)})"
            sql = f"{into}SELECT {', '.join(selected)} FROM {values} WHERE true{upsert}"
            texts[count] = sql
        conn.exec_driver_sql(sql, (*bound, *chunk))


def encoder(conn: Connection, table: sa.Table, name: str) -> Callable[[Any], Any]:
    """The column's bind processing, to give `insert_many` its values `encoded`: run once
    per distinct tuple, text or bytes."""
    return _repeating(_processor(table, name, conn.dialect))


def _processor(table: sa.Table, name: str, dialect: Dialect) -> Callable[[Any], Any]:
    """The column's bind processing for `dialect` (a TypeDecorator's included), or the
    identity when it has none."""
    process: _Processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return _same if process is None else process


def _same(value: Any) -> Any:
    return value


def _repeating(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, run once per distinct tuple, text or bytes (rows repeat them: an empty
    list of run ids, the same error, an empty body); other values, such as documents,
    every time."""
    if process is _same:
        return process
    done: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        if type(value) not in (tuple, str, bytes):
            return process(value)
        found = done.get(value, _same)
        if found is _same:
            found = done[value] = process(value)
        return found

    return run
