"""`weir runs launch|list|show|cancel`: runs over the API.

weir runs launch --select "orders+" --partition 2024-01-01 --tag team=sales
weir runs list --status failure
weir runs show 0b4e...        # the run and its events
weir runs cancel 0b4e...
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from weir_controlplane.cli import CommandError
from weir_controlplane.cli.output import duration, key_text, shorten, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# Replies are the API's JSON (proto3 mapping: camelCase fields, enums by name, fields at
# their default left out): the CLI loads no protobuf.

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
    request: dict[str, Any] = {"selection": args.select}
    if args.partition:
        request["partitionKey"] = args.partition
    if tags := parse_tags(args.tag):
        request["tags"] = tags
    if config := _config(args.config):
        request["runConfig"] = config
    if args.location:
        request["codeLocation"] = args.location
    run = client_for(args).call("LaunchRun", request).get("run", {})
    keys = [key_text(key) for key in run.get("assetKeys", [])]
    print(
        f"Launched run {run.get('runId', '')} ({_status(run)}): {len(keys)} asset(s) in "
        f"{run.get('codeLocation', '')}: {shorten(', '.join(keys), 100)}"
    )
    return 0


def list_runs(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"limit": args.limit}
    if args.status:
        request["statuses"] = [f"RUN_STATUS_{status}" for status in args.status]
    if args.location:
        request["codeLocation"] = args.location
    runs = client_for(args).call("ListRuns", request).get("runs", [])
    if not runs:
        print("No runs.")
        return 0
    rows = [
        [
            run.get("runId", ""),
            _status(run),
            run.get("codeLocation", ""),
            shorten(_target(run), 40),
            run.get("partitionKey") or "-",
            when(run.get("createTime")),
            duration(run.get("startTime"), run.get("endTime")),
        ]
        for run in runs
    ]
    print(table(["RUN ID", "STATUS", "LOCATION", "TARGET", "PARTITION", "CREATED", "TOOK"], rows))
    return 0


def show_run(args: argparse.Namespace) -> int:
    client = client_for(args)
    run = client.call("GetRun", {"runId": args.run_id}).get("run", {})
    details = [
        ("Status", _status(run)),
        ("Location", run.get("codeLocation", "")),
        ("Target", _target(run)),
        ("Partition", run.get("partitionKey") or "-"),
        ("Created", when(run.get("createTime"))),
        ("Started", when(run.get("startTime"))),
        ("Ended", when(run.get("endTime"))),
        ("Took", duration(run.get("startTime"), run.get("endTime"))),
    ]
    if run.get("failureReason"):
        details.append(("Reason", " ".join(run["failureReason"].split())))
    if tags := run.get("tags"):
        details.append(("Tags", ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))))
    print(f"Run {run.get('runId', '')}")
    for label, value in details:
        print(f"  {label + ':':<11}{value}")
    events = list(
        client.pages(
            "GetRunEvents",
            {"runId": run.get("runId", args.run_id), "limit": 1000},
            "events",
            done_when_no_more=True,
        )
    )
    print()
    if not events:
        print("No events yet.")
        return 0
    rows = [
        [
            when(event.get("timestamp")),
            event.get("eventType", "RUN_EVENT_TYPE_UNSPECIFIED").removeprefix("RUN_EVENT_TYPE_"),
            event.get("stepKey") or "-",
            _event_message(event),
        ]
        for event in events
    ]
    print(table(["TIME", "EVENT", "STEP", "MESSAGE"], rows))
    return 0


def cancel_run(args: argparse.Namespace) -> int:
    run = client_for(args).call("CancelRun", {"runId": args.run_id}).get("run", {})
    status = _status(run)
    note = {
        "CANCELING": "; its worker is stopping",
        "CANCELED": "",
    }.get(status, " (it had already ended)")
    print(f"Run {run.get('runId', '')}: {status}{note}")
    return 0


def _status(run: dict[str, Any]) -> str:
    return str(run.get("status", "RUN_STATUS_UNSPECIFIED")).removeprefix("RUN_STATUS_")


def _target(run: dict[str, Any]) -> str:
    keys = ", ".join(key_text(key) for key in run.get("assetKeys", []))
    if run.get("jobName"):
        return f"job {run['jobName']}"
    return f"{run['selection']} ({keys})" if run.get("selection") else keys or "-"


def _event_message(event: dict[str, Any]) -> str:
    message = event.get("message", "")
    failure = event.get("stepFailure", event.get("runFailure"))
    if failure is not None:
        error = failure.get("error", {})
        if error.get("message") and error["message"] not in message:
            message = f"{message} {error.get('className', '')}: {error['message']}".strip()
        return " ".join(message.split())
    return shorten(message, 120)


def parse_tags(pairs: list[str]) -> dict[str, str]:
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
