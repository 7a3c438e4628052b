"""`weir backfill launch|show|cancel|resume`: backfills over the API.

weir backfill launch --select "raw*" --from 2024-01-01 --to 2024-12-31   # live progress
weir backfill show 3f2a9c1b7e40
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from weir_controlplane.cli import CommandError
from weir_controlplane.cli.output import key_text, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for
from weir_controlplane.cli.runs import parse_tags

_ENDED = {"COMPLETED", "FAILED", "CANCELED"}
_BAR_WIDTH = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    backfill = subparsers.add_parser("backfill", help="launch and follow backfills")
    commands = backfill.add_subparsers(dest="backfill_command", metavar="COMMAND")
    commands.required = True

    launch = commands.add_parser("launch", help="backfill partitions of an asset selection")
    launch.add_argument("--select", required=True, metavar="SEL", help='e.g. "raw*"')
    launch.add_argument("--from", dest="start", default="", metavar="KEY", help="first partition")
    launch.add_argument("--to", dest="end", default="", metavar="KEY", help="last partition")
    launch.add_argument(
        "--partition", action="append", default=[], metavar="KEY", help="repeat for more"
    )
    launch.add_argument("--all", action="store_true", help="every partition")
    launch.add_argument(
        "--from-failure",
        action="store_true",
        help="only failed partitions and those they left unmaterialized downstream",
    )
    launch.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="repeat for more tags"
    )
    launch.add_argument(
        "--no-wait", action="store_true", help="return once launched, without the progress bar"
    )
    add_api_options(launch)
    launch.set_defaults(
        handler=api_command(
            launch_backfill,
            flags={
                "partitionKeys": "--partition",
                "partitionRange": "--from/--to",
                "allPartitions": "--all",
                "fromFailure": "--from-failure",
                "tags": "--tag",
            },
        )
    )

    show = commands.add_parser("show", help="a backfill and its progress per asset")
    show.add_argument("backfill_id", metavar="ID")
    add_api_options(show)
    show.set_defaults(handler=api_command(show_backfill))

    for name, method, what in (
        ("cancel", "CancelBackfill", "launch no new run and cancel the running ones"),
        ("resume", "ResumeBackfill", "run again what a canceled or failed backfill did not"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("backfill_id", metavar="ID")
        add_api_options(command)
        command.set_defaults(handler=api_command(_changer(method)))


def launch_backfill(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"selection": args.select}
    if args.start or args.end:
        if not (args.start and args.end):
            raise CommandError("--from and --to go together: give both")
        request["partitionRange"] = {"start": args.start, "end": args.end}
    if args.partition:
        request["partitionKeys"] = args.partition
    if args.all:
        request["allPartitions"] = True
    if args.from_failure:
        request["fromFailure"] = True
    if tags := parse_tags(args.tag):
        request["tags"] = tags
    client = client_for(args)
    launched = client.call("LaunchBackfill", request)
    backfill_id = launched.get("backfillId", "")
    print(f"Launched backfill {backfill_id}: {launched.get('runCount', 0)} run(s)")
    if args.no_wait:
        return 0
    while True:
        backfill = client.call("GetBackfill", {"backfillId": backfill_id}).get("backfill", {})
        draw_progress(backfill, sys.stdout)
        if _status(backfill) in _ENDED:
            sys.stdout.write("\n")
            return 0 if _status(backfill) == "COMPLETED" else 1
        time.sleep(0.5)


def draw_progress(backfill: dict[str, Any], out: TextIO) -> None:
    """One line, redrawn in place: a bar of the runs that ended, and the counts."""
    total = int(backfill.get("runCount", 0))
    succeeded, failed, skipped = (
        int(backfill.get(field, 0)) for field in ("runsSucceeded", "runsFailed", "runsSkipped")
    )
    done = succeeded + failed + skipped
    filled = _BAR_WIDTH * done // total if total else _BAR_WIDTH
    bar = "#" * filled + "." * (_BAR_WIDTH - filled)
    out.write(
        f"\r[{bar}] {done}/{total} runs  {succeeded} ok, {failed} failed, {skipped} skipped, "
        f"{int(backfill.get('runsInProgress', 0))} running  {_status(backfill)}   "
    )
    out.flush()


def show_backfill(args: argparse.Namespace) -> int:
    backfill = client_for(args).call("GetBackfill", {"backfillId": args.backfill_id})["backfill"]
    print(
        f"Backfill {backfill.get('backfillId', '')}: {_status(backfill)}, selection "
        f"{backfill.get('selection', '')!r} in {backfill.get('codeLocation', '')}, created "
        f"{when(backfill.get('createTime'))}"
    )
    print(
        f"Runs: {backfill.get('runCount', 0)} planned, {backfill.get('runsSucceeded', 0)} "
        f"succeeded, {backfill.get('runsFailed', 0)} failed, {backfill.get('runsSkipped', 0)} "
        f"skipped, {backfill.get('runsInProgress', 0)} in progress"
    )
    columns = ("total", "requested", "inProgress", "materialized", "failed", "skipped")
    rows = [
        [key_text(asset.get("key"))] + [asset.get("counts", {}).get(c, "0") for c in columns]
        for asset in backfill.get("assets", [])
    ]
    print(table(["ASSET", "TOTAL", "REQUESTED", "IN PROGRESS", "DONE", "FAILED", "SKIPPED"], rows))
    return 0


def _changer(method: str) -> Any:
    def change(args: argparse.Namespace) -> int:
        reply = client_for(args).call(method, {"backfillId": args.backfill_id})
        backfill = reply.get("backfill", {})
        print(f"Backfill {backfill.get('backfillId', '')}: {_status(backfill)}")
        return 0

    return change


def _status(backfill: dict[str, Any]) -> str:
    return str(backfill.get("status", "")).removeprefix("BACKFILL_STATUS_")
