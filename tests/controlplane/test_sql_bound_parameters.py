"""SQL goes to the database only with values as bound parameters: no statement text in the
control plane is built from strings (f-strings, %, .format, +) where it is executed.

The check reads the source (ast), so it covers every path, tested or not; the planted
examples below prove it catches each way of building SQL from strings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONTROLPLANE = Path(__file__).parents[2] / "controlplane" / "weir_controlplane"
# Calls whose first argument is SQL text that the database will parse.
SQL_CALLS = frozenset(
    {"text", "execute", "exec_driver_sql", "executemany", "executescript", "literal_column"}
)


def string_built_sql(source: str, filename: str = "<planted>") -> list[str]:
    """`file:line call(...)` for each SQL call whose statement is built from strings."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in SQL_CALLS and _built_from_strings(node.args[0]):
            found.append(f"{filename}:{node.lineno} {ast.unparse(node)[:120]}")
    return found


def _built_from_strings(expr: ast.expr) -> bool:
    if isinstance(expr, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in expr.values)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mod, ast.Add)):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        return expr.func.attr in {"format", "join", "replace"}
    if isinstance(expr, ast.IfExp):
        return _built_from_strings(expr.body) or _built_from_strings(expr.orelse)
    return False


def test_the_control_plane_builds_no_sql_from_strings() -> None:
    files = sorted(CONTROLPLANE.rglob("*.py"))
    assert len(files) > 20  # the walk found the package
    found = [
        hit
        for path in files
        for hit in string_built_sql(path.read_text(), str(path.relative_to(CONTROLPLANE)))
    ]
    assert found == [], "SQL built from strings; bind the values instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "planted",
    [
        "conn.execute(sa.text(f\"SELECT * FROM runs WHERE run_id = '{run_id}'\"))",
        "conn.execute(text(\"DELETE FROM runs WHERE run_id = '%s'\" % run_id))",
        'conn.exec_driver_sql("SELECT {} FROM runs".format(column))',
        'cursor.execute("SELECT * FROM runs WHERE status = \'" + status + "\'")',
        'conn.execute(sa.text("SELECT 1" if fast else f"SELECT {column}"))',
        'sa.literal_column(f"{name}_count")',
    ],
)
def test_the_check_catches_sql_built_from_strings(planted: str) -> None:
    assert string_built_sql(planted)


@pytest.mark.parametrize(
    "bound",
    [
        'conn.execute(sa.text("SELECT * FROM runs WHERE run_id = :run_id"), {"run_id": run_id})',
        "conn.execute(runs.select().where(runs.c.run_id == run_id))",
        'conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")',
        "cursor.execute(_BUSY_TIMEOUT_PRAGMA)",
    ],
)
def test_the_check_lets_bound_parameters_through(bound: str) -> None:
    assert string_built_sql(bound) == []
