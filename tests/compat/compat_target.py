"""The package a compatibility case runs against.

Each case in tests/compat is user code written the way Dagster's guides teach, with its
one `import dagster as dg` line replaced by `from compat_target import dg`. Under
`make test` that is `weir`; `make compat-dagster` runs the same files against Dagster in
.venv-dagster (WEIR_COMPAT_TARGET=dagster) as the reference.
"""

import importlib
import os

TARGET = os.environ.get("WEIR_COMPAT_TARGET", "weir")
dg = importlib.import_module(TARGET)
