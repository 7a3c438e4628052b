"""weir_partitions stands alone: the SDK and the control plane both import it, so it may
import neither of them, and nothing outside the standard library but croniter."""

import ast
import subprocess
import sys
from pathlib import Path

import weir_partitions

PACKAGE = Path(weir_partitions.__file__).parent


def loaded_after(statements: str) -> list[str]:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"{statements}\n"
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(loaded - set(sys.stdlib_module_names) - {'weir_partitions'}))\n"
    )
    # Underscored names are the interpreter's own (zoneinfo reads _sysconfigdata_*).
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in eval(out.stdout) if not m.startswith("_")]


def test_importing_weir_partitions_loads_only_the_standard_library():
    assert loaded_after("import weir_partitions") == []


def test_reading_a_cron_string_loads_croniter_and_its_own_dependencies_only():
    loaded = loaded_after("import weir_partitions; weir_partitions.parse_cron('0 0 * * *')")
    assert "croniter" in loaded
    assert set(loaded) <= {"croniter", "dateutil", "six"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_imports_the_sdk_or_the_control_plane():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 6
    allowed = set(sys.stdlib_module_names) | {"croniter", "weir_partitions"}
    for path in files:
        assert imported_roots(path) <= allowed, path


def test_the_boundary_check_catches_a_planted_import(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "def f():\n    from weir._partitions import base\n    import weir_controlplane\n"
    )
    assert {"weir", "weir_controlplane"} <= imported_roots(planted)
