"""Loads the user's Definitions from a file or module, once, turning failures into a LoadError
the control plane shows instead of a crash loop."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from weir import Definitions
from weir._definitions import no_cyclic_gc
from weir._definitions_building import LazyDefinitions

USER_MODULE_PREFIX = "weir_user_code_"


@dataclass(frozen=True)
class CodeTarget:
    """Where user code lives: a Python file (`-f`) or an importable module (`-m`)."""

    python_file: str | None = None
    module_name: str | None = None
    attribute: str | None = None  # which Definitions, when a module holds several

    def to_args(self) -> list[str]:
        """The command-line arguments that name this target (as `weir-codeserver` takes)."""
        args = ["-f", os.path.abspath(self.python_file)] if self.python_file else []
        args += ["-m", self.module_name] if self.module_name else []
        return args + (["-a", self.attribute] if self.attribute else [])

    def describe(self) -> str:
        where = self.python_file or self.module_name or "?"
        return f"{where}:{self.attribute}" if self.attribute else where


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The -f / -m / -a options every entry point that loads user code takes."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-f", "--python-file", help="a Python file that defines a weir.Definitions")
    where.add_argument("-m", "--module-name", help="an importable module defining one")
    parser.add_argument(
        "-a", "--attribute", help="the Definitions' variable name, when the code defines several"
    )


def target_from_arguments(args: argparse.Namespace) -> CodeTarget:
    return CodeTarget(args.python_file, args.module_name, args.attribute)


class LoadError(Exception):
    """User code could not be loaded; `message` and `stack` go to the control plane."""

    def __init__(self, message: str, stack: str = "", class_name: str = ""):
        super().__init__(message)
        self.message = message
        self.stack = stack
        self.class_name = class_name


def load_definitions(target: CodeTarget) -> Definitions:
    # Importing the user's code builds its definitions: many long-lived objects and little
    # garbage, so collection passes would only walk what stays (a fifth of importing 10,000
    # @assets). The server freezes what it keeps once loaded.
    with no_cyclic_gc():
        defs = _find_definitions(_imported(target), target)
    _refuse_op_jobs(defs, target)
    return defs


def _imported(target: CodeTarget) -> object:
    try:
        return _import(target)
    except LoadError:
        raise
    except (Exception, SystemExit) as exc:  # SyntaxError, ImportError, bad Definitions, exit()
        raise LoadError(
            f"Error loading {target.describe()}: {type(exc).__name__}: {exc}",
            _user_stack(exc),
            type(exc).__name__,
        ) from exc


def _refuse_op_jobs(defs: Definitions, target: CodeTarget) -> None:
    """Runs of a code location materialize assets; an op job (`@job`) runs in process only,
    so say so at load rather than serve a job that materializes nothing."""
    op_jobs = sorted(name for name, job in defs.jobs.items() if job.graph is not None)
    if op_jobs:
        raise LoadError(
            f"{target.describe()} defines op jobs ({', '.join(op_jobs)}); a code location "
            "serves asset jobs only. Run op jobs with job.execute_in_process(), or turn their "
            "ops into assets (@asset, or @graph_asset to keep the ops) and select them with "
            "define_asset_job"
        )


def _import(target: CodeTarget) -> object:
    if target.python_file:
        path = Path(target.python_file).resolve()
        if not path.exists():
            raise LoadError(f"Code location file {path} does not exist")
        directory = str(path.parent)
        if directory not in sys.path:
            sys.path.insert(0, directory)  # let the file import its siblings
        # Named after the path, the same in every process: type names in the snapshot and
        # pickled values must not change between loads.
        name = f"{USER_MODULE_PREFIX}{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"Cannot import {path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    if target.module_name:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        return importlib.import_module(target.module_name)
    raise LoadError("No code given: pass -f FILE or -m MODULE")


def _find_definitions(module: object, target: CodeTarget) -> Definitions:
    if target.attribute:
        value = getattr(module, target.attribute, None)
        if not isinstance(value, (Definitions, LazyDefinitions)):
            raise LoadError(
                f"{target.describe()} is not a weir.Definitions or @definitions function"
            )
        return _built(value, target)
    found = {k: v for k, v in vars(module).items() if isinstance(v, (Definitions, LazyDefinitions))}
    if len(found) == 1:
        return _built(next(iter(found.values())), target)
    if not found:
        raise LoadError(
            f"{target.describe()} defines no weir.Definitions; add `defs = Definitions(...)` "
            "at module level, or a function decorated with @definitions that returns one"
        )
    raise LoadError(
        f"{target.describe()} defines several Definitions ({', '.join(sorted(found))}); "
        "choose one with -a/--attribute"
    )


def _built(found: Definitions | LazyDefinitions, target: CodeTarget) -> Definitions:
    """The Definitions themselves, or what the `@definitions` function returns."""
    if isinstance(found, Definitions):
        return found
    try:
        return found()
    except Exception as exc:
        raise LoadError(
            f"Error loading {target.describe()}: @definitions function raised "
            f"{type(exc).__name__}: {exc}",
            _user_stack(exc),
            type(exc).__name__,
        ) from exc


def _user_stack(exc: BaseException) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(here) and "importlib" not in f.filename
    ]
    text = "".join(traceback.format_list(frames))
    if isinstance(exc, SyntaxError):
        text += "".join(traceback.format_exception_only(type(exc), exc))
    return text
