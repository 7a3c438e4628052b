"""`weir runs launch|list|show|cancel`: runs over the API.

weir runs launch --select "orders+" --partition 2024-01-01 --tag team=sales
weir runs list --status failure
weir runs show 0b4e...        # the run and its events
weir runs cancel 0b4e...
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from weir_controlplane.cli import CommandError
from weir_controlplane.cli.output import duration, shorten, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# The protos are imported by the commands that call the API, not here: `weir --help` builds
# this parser and should not load protobuf.
if TYPE_CHECKING:
    from weir_protos.v1 import events_pb2, runs_pb2

# weir.v1.RunStatus without its prefix, in enum order (a test pins it to the proto enum).
STATUS_NAMES = [
    "QUEUED",
    "STARTING",
    "STARTED",
    "SUCCESS",
    "FAILURE",
    "CANCELING",
    "CANCELED",
]


def register(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser("runs", help="launch, list, inspect and cancel runs")
    commands = runs.add_subparsers(dest="runs_command", metavar="COMMAND")
    commands.required = True

    launch = commands.add_parser("launch", help="launch a run of an asset selection")
    launch.add_argument("--select", required=True, metavar="SEL", help='e.g. "orders+"')
    launch.add_argument("--partition", default="", metavar="KEY", help="the partition to run")
    launch.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="repeat for more tags"
    )
    launch.add_argument("--config", default="", metavar="JSON", help="run config as JSON")
    launch.add_argument("--location", default="", help="the code location, if ambiguous")
    add_api_options(launch)
    launch.set_defaults(
        handler=api_command(
            launch_run,
            flags={
                "selection": "--select",
                "partitionKey": "--partition",
                "tags": "--tag",
                "runConfig": "--config",
                "codeLocation": "--location",
            },
        )
    )

    listing = commands.add_parser("list", help="runs, newest first")
    listing.add_argument(
        "--status",
        action="append",
        default=[],
        type=str.upper,
        choices=STATUS_NAMES,
        metavar="STATUS",
        help=f"repeat for several; one of {', '.join(s.lower() for s in STATUS_NAMES)}",
    )
    listing.add_argument("--location", default="")
    listing.add_argument("--limit", type=int, default=20)
    add_api_options(listing)
    listing.set_defaults(
        handler=api_command(
            list_runs,
            flags={"statuses": "--status", "codeLocation": "--location", "limit": "--limit"},
        )
    )

    show = commands.add_parser("show", help="a run and its events")
    show.add_argument("run_id", metavar="RUN_ID")
    add_api_options(show)
    show.set_defaults(handler=api_command(show_run))

    cancel = commands.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id", metavar="RUN_ID")
    add_api_options(cancel)
    cancel.set_defaults(handler=api_command(cancel_run))


def launch_run(args: argparse.Namespace) -> int:
    run = (
        client_for(args)
        .launch_run(
            args.select,
            partition_key=args.partition,
            tags=_tags(args.tag),
            run_config=_config(args.config),
            code_location=args.location,
        )
        .run
    )
    keys = ["/".join(key.path) for key in run.asset_keys]
    print(
        f"Launched run {run.run_id} ({_status(run.status)}): {len(keys)} asset(s) in "
        f"{run.code_location}: {shorten(', '.join(keys), 100)}"
    )
    return 0


def list_runs(args: argparse.Namespace) -> int:
    from weir_protos.v1 import runs_pb2

    reply = client_for(args).list_runs(
        statuses=[runs_pb2.RunStatus.Value(f"RUN_STATUS_{s}") for s in args.status],
        code_location=args.location,
        limit=args.limit,
    )
    if not reply.runs:
        print("No runs.")
        return 0
    rows = [
        [
            run.run_id,
            _status(run.status),
            run.code_location,
            shorten(_target(run), 40),
            run.partition_key or "-",
            when(run.create_time),
            duration(run.start_time, run.end_time),
        ]
        for run in reply.runs
    ]
    print(table(["RUN ID", "STATUS", "LOCATION", "TARGET", "PARTITION", "CREATED", "TOOK"], rows))
    return 0


def show_run(args: argparse.Namespace) -> int:
    client = client_for(args)
    run = client.get_run(args.run_id).run
    details = [
        ("Status", _status(run.status)),
        ("Location", run.code_location),
        ("Target", _target(run)),
        ("Partition", run.partition_key or "-"),
        ("Created", when(run.create_time)),
        ("Started", when(run.start_time)),
        ("Ended", when(run.end_time)),
        ("Took", duration(run.start_time, run.end_time)),
    ]
    if run.failure_reason:
        details.append(("Reason", " ".join(run.failure_reason.split())))
    if run.tags:
        details.append(("Tags", ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items()))))
    print(f"Run {run.run_id}")
    for label, value in details:
        print(f"  {label + ':':<11}{value}")
    from weir_protos.v1 import events_pb2

    events = list(client.all_run_events(run.run_id))
    print()
    if not events:
        print("No events yet.")
        return 0
    rows = [
        [
            when(event.timestamp),
            events_pb2.RunEventType.Name(event.event_type).removeprefix("RUN_EVENT_TYPE_"),
            event.step_key or "-",
            _event_message(event),
        ]
        for event in events
    ]
    print(table(["TIME", "EVENT", "STEP", "MESSAGE"], rows))
    return 0


def cancel_run(args: argparse.Namespace) -> int:
    run = client_for(args).cancel_run(args.run_id).run
    status = _status(run.status)
    note = {
        "CANCELING": "; its worker is stopping",
        "CANCELED": "",
    }.get(status, " (it had already ended)")
    print(f"Run {run.run_id}: {status}{note}")
    return 0


def _status(value: int) -> str:
    from weir_protos.v1 import runs_pb2

    return runs_pb2.RunStatus.Name(value).removeprefix("RUN_STATUS_")


def _target(run: runs_pb2.Run) -> str:
    keys = ", ".join("/".join(key.path) for key in run.asset_keys)
    if run.job_name:
        return f"job {run.job_name}"
    return f"{run.selection} ({keys})" if run.selection else keys or "-"


def _event_message(event: events_pb2.RunEvent) -> str:
    message = event.message
    payload = event.WhichOneof("payload")
    if payload in ("step_failure", "run_failure"):
        error = getattr(event, payload).error
        if error.message and error.message not in message:
            message = f"{message} {error.class_name}: {error.message}".strip()
        return " ".join(message.split())
    return shorten(message, 120)


def _tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not key or not equals:
            raise CommandError(f"--tag takes KEY=VALUE, got {pair!r}")
        tags[key] = value
    return tags


def _config(text: str) -> dict[str, object]:
    if not text:
        return {}
    try:
        config = json.loads(text)
    except ValueError as error:
        raise CommandError(f"--config is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise CommandError("--config must be a JSON object")
    return config
