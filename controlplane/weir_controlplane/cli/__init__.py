"""The `weir` command. Each command group lives in its own module and registers itself here.

weir dev -f defs.py            control plane + code location, on SQLite, for development
weir controlplane -w weir.yaml the control plane alone
weir daemon -w weir.yaml       the scheduler and sensor runner alone, on the same database
weir assets list|lineage       read assets over the API
weir health [ASSET]            asset health: the deployment's summary, or one asset's
weir runs launch|list|show|cancel
weir schedules list|start|stop, weir sensors list|start|stop|cursor, weir ticks NAME
weir backfill launch|show|cancel|resume
weir alerts create|list|delete|deliveries
weir deployments create|list|delete, weir tokens create|list|revoke
weir admin bootstrap           the first organization admin token, on the database
weir celery worker -f defs.py  a Celery worker running a code location's steps
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
    "weir_controlplane.cli.health",
    "weir_controlplane.cli.runs",
    "weir_controlplane.cli.instigators",
    "weir_controlplane.cli.backfills",
    "weir_controlplane.cli.alerts",
    "weir_controlplane.cli.access",
    "weir_controlplane.cli.replicas",
    "weir_controlplane.cli.admin",
    "weir_controlplane.cli.celery",
)


class CommandError(Exception):
    """A failure to show as one line, without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weir", description="Weir: a data asset orchestrator.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _remember_parsers(parser)
    return parser


def _remember_parsers(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand's parser a default naming itself, so `main` can report an
    unknown flag with the usage of the command it was given to."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                subparser.set_defaults(command_parser=subparser)
                _remember_parsers(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # argparse reports flags no subcommand knows with the top-level usage; parse them out
    # and let the subcommand that got them say so with its own usage.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "command_parser", parser).error(
            f"unrecognized arguments: {' '.join(unknown)}"
        )
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
