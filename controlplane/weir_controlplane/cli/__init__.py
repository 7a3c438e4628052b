"""The `weir` command. Each command group lives in its own module and registers itself here.

weir dev -f defs.py            control plane + code location, on SQLite, for development
weir controlplane -w weir.yaml the control plane alone
weir assets list|lineage       read assets over the API
weir runs launch|list|show|cancel
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that define `register(subparsers)`; each adds its own subcommands.
COMMAND_MODULES = (
    "weir_controlplane.cli.dev",
    "weir_controlplane.cli.assets",
    "weir_controlplane.cli.runs",
)


class CommandError(Exception):
    """A failure to show as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weir", description="Weir: a data asset orchestrator.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
