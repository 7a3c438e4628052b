"""Which package may import which, and two ways of finding out what a package imports.

- `static_violations` reads every file of a package with `ast`: every ``import`` and
  ``from ... import`` anywhere (module level, inside functions, under TYPE_CHECKING), and
  ``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.
- `runtime_violations` imports every module of the package in a fresh interpreter and
  looks at `sys.modules`, which also catches what a dependency drags in.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    package: str  # the import name, e.g. "weir"
    source: Path  # the directory holding the package's files
    forbidden: tuple[str, ...]  # modules it must never import, with their submodules
    # Scripts a tool runs, which do their work on import: read by the static check only.
    scripts: tuple[str, ...] = ()


RULES = (
    Rule(
        "weir",
        ROOT / "sdk" / "weir",
        ("weir_controlplane", "weir_codeserver", "grpc", "google.protobuf", "sqlalchemy"),
    ),
    Rule(
        "weir_selection",
        ROOT / "selection" / "weir_selection",
        ("weir", "weir_controlplane", "weir_codeserver"),
    ),
    Rule(
        "weir_controlplane",
        ROOT / "controlplane" / "weir_controlplane",
        ("weir", "weir_codeserver"),
        scripts=("weir_controlplane.storage.migrations.env",),  # run by alembic
    ),
    Rule("weir_codeserver", ROOT / "codeserver" / "weir_codeserver", ("weir_controlplane",)),
)


def is_forbidden(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a parsed file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:  # relative imports stay in the package
                found.append((node.lineno, node.module))
                # `from google import protobuf` imports google.protobuf
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and _is_dynamic_import(node.func)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def static_violations(source: Path, forbidden: tuple[str, ...]) -> list[str]:
    """One line per import statement that names a forbidden module."""
    violations: dict[tuple[Path, int], str] = {}
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_names(tree):
            if is_forbidden(module, forbidden) and (path, line) not in violations:
                where = f"{path.relative_to(source.parent)}:{line}"
                violations[(path, line)] = f"{where} imports {module}"
    return list(violations.values())


_PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
scripts = set(sys.argv[2:])
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if info.name not in scripts and not info.name.endswith(".__main__"):  # __main__ runs a CLI
        importlib.import_module(info.name)
print(json.dumps({"file": package.__file__, "modules": sorted(sys.modules)}))
"""


def runtime_modules(
    package: str, path_first: Path | None = None, scripts: tuple[str, ...] = ()
) -> tuple[str, list[str]]:
    """The package's own file and every module loaded after importing all its modules,
    in a fresh interpreter (with `path_first` ahead of the installed packages)."""
    env = dict(os.environ)
    if path_first is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path_first), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, package, *scripts],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, f"importing every module of {package} failed:\n{out.stderr}"
    result = json.loads(out.stdout.splitlines()[-1])
    return result["file"], result["modules"]


def runtime_violations(rule: Rule, path_first: Path | None = None) -> list[str]:
    _, modules = runtime_modules(rule.package, path_first, rule.scripts)
    return [m for m in modules if is_forbidden(m, rule.forbidden)]
