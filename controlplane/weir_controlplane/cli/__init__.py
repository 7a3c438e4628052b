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

# Each command and the module that defines it: a module's `register(subparsers)` adds all
# of its own. A command line naming one builds only that module's parsers (argparse costs
# some 0.3 ms a parser, and `weir dev` spawns its code servers after this: 6-10 ms
# sooner); `weir --help` and an unknown command build them all.
COMMANDS = {
    "dev": "weir_controlplane.cli.dev",
    "controlplane": "weir_controlplane.cli.dev",
    "daemon": "weir_controlplane.cli.dev",
    "assets": "weir_controlplane.cli.assets",
    "health": "weir_controlplane.cli.health",
    "runs": "weir_controlplane.cli.runs",
    "schedules": "weir_controlplane.cli.instigators",
    "sensors": "weir_controlplane.cli.instigators",
    "ticks": "weir_controlplane.cli.instigators",
    "backfill": "weir_controlplane.cli.backfills",
    "alerts": "weir_controlplane.cli.alerts",
    "deployments": "weir_controlplane.cli.access",
    "tokens": "weir_controlplane.cli.access",
    "replicas": "weir_controlplane.cli.replicas",
    "admin": "weir_controlplane.cli.admin",
    "celery": "weir_controlplane.cli.celery",
}


class CommandError(Exception):
    """A failure to show as one line, without a traceback."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command`'s module's commands alone."""
    parser = argparse.ArgumentParser(prog="weir", description="Weir: a data asset orchestrator.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    modules = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in modules:
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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
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
