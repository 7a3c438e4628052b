"""`weir schedules …`, `weir sensors …` and `weir ticks NAME`: schedules, sensors and
their ticks over the API.

weir schedules list
weir schedules start daily_refresh
weir sensors stop new_files --location etl
weir sensors cursor new_files 42        # or --clear
weir ticks new_files --limit 20
"""

from __future__ import annotations

import argparse
from typing import Any

from weir_controlplane.cli import CommandError
from weir_controlplane.cli.output import shorten, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

_FLAGS = {"codeLocation": "--location"}


def register(subparsers: argparse._SubParsersAction) -> None:
    for noun, rpc_noun in (("schedules", "Schedule"), ("sensors", "Sensor")):
        group = subparsers.add_parser(noun, help=f"list, start and stop {noun}")
        commands = group.add_subparsers(dest=f"{noun}_command", metavar="COMMAND")
        commands.required = True
        listing = commands.add_parser("list", help=f"{noun} with their status and last tick")
        listing.add_argument("--location", default="", help="only this code location's")
        add_api_options(listing)
        listing.set_defaults(
            handler=api_command(list_schedules if noun == "schedules" else list_sensors, _FLAGS)
        )
        for verb in ("start", "stop"):
            command = commands.add_parser(
                verb, help=f"{verb} a {noun[:-1]} (stored across restarts)"
            )
            _target_arguments(command)
            command.set_defaults(
                handler=api_command(_switch(f"{verb.title()}{rpc_noun}", noun[:-1]), _FLAGS)
            )
        if noun == "sensors":
            cursor = commands.add_parser("cursor", help="set or clear a sensor's cursor")
            _target_arguments(cursor)
            value = cursor.add_mutually_exclusive_group(required=True)
            value.add_argument("value", nargs="?", help="the cursor the next tick receives")
            value.add_argument("--clear", action="store_true", help="the next tick gets none")
            cursor.set_defaults(handler=api_command(set_cursor, _FLAGS))

    ticks = subparsers.add_parser("ticks", help="a schedule's or sensor's ticks, newest first")
    _target_arguments(ticks)
    ticks.add_argument("--limit", type=int, default=20)
    ticks.set_defaults(handler=api_command(list_ticks, {**_FLAGS, "limit": "--limit"}))


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--location", default="", help="the code location, if ambiguous")
    add_api_options(parser)


def _target(args: argparse.Namespace) -> dict[str, Any]:
    request: dict[str, Any] = {"name": args.name}
    if args.location:
        request["codeLocation"] = args.location
    return request


def list_schedules(args: argparse.Namespace) -> int:
    request = {"codeLocation": args.location} if args.location else {}
    schedules = client_for(args).call("ListSchedules", request).get("schedules", [])
    if not schedules:
        print("No schedules.")
        return 0
    rows = [
        [
            schedule.get("name", ""),
            schedule.get("codeLocation", ""),
            _status(schedule),
            f"{schedule.get('cronSchedule', '')} {schedule.get('timezone') or 'UTC'}",
            when(schedule.get("nextTickTime")),
            _last_tick(schedule),
        ]
        for schedule in schedules
    ]
    print(table(["NAME", "LOCATION", "STATUS", "CRON", "NEXT TICK", "LAST TICK"], rows))
    return 0


def list_sensors(args: argparse.Namespace) -> int:
    request = {"codeLocation": args.location} if args.location else {}
    sensors = client_for(args).call("ListSensors", request).get("sensors", [])
    if not sensors:
        print("No sensors.")
        return 0
    rows = [
        [
            sensor.get("name", ""),
            sensor.get("codeLocation", ""),
            _status(sensor),
            str(sensor.get("sensorType", "")).removeprefix("SENSOR_TYPE_").lower(),
            shorten(sensor["cursor"], 30) if "cursor" in sensor else "-",
            _last_tick(sensor),
        ]
        for sensor in sensors
    ]
    print(table(["NAME", "LOCATION", "STATUS", "TYPE", "CURSOR", "LAST TICK"], rows))
    return 0


def _switch(method: str, noun: str) -> Any:
    def switch(args: argparse.Namespace) -> int:
        reply = client_for(args).call(method, _target(args))
        item = reply.get(noun, {})
        print(f"{noun.title()} {item.get('name', args.name)} in {item.get('codeLocation', '')}: "
              f"{_status(item)}")  # fmt: skip
        return 0

    return switch


def set_cursor(args: argparse.Namespace) -> int:
    request = _target(args)
    if not args.clear:
        if args.value is None:
            raise CommandError("give the cursor, or --clear")
        request["cursor"] = args.value
    sensor = client_for(args).call("SetSensorCursor", request).get("sensor", {})
    shown = repr(sensor["cursor"]) if "cursor" in sensor else "cleared"
    print(f"Sensor {sensor.get('name', args.name)}: cursor {shown}")
    return 0


def list_ticks(args: argparse.Namespace) -> int:
    request = _target(args) | {"limit": args.limit}
    ticks = client_for(args).call("ListTicks", request).get("ticks", [])
    if not ticks:
        print(f"No ticks of {args.name} yet.")
        return 0
    rows = [
        [
            _tick_times(tick),
            _tick_status(tick),
            ", ".join(tick.get("runKeys", [])) or "-",
            str(len(tick.get("runIds", []))),
            tick.get("cursorAfter", "-"),
            _detail(tick),
        ]
        for tick in ticks
    ]
    print(table(["TIME", "STATUS", "RUN KEYS", "RUNS", "CURSOR", "DETAIL"], rows))
    return 0


def _status(item: dict[str, Any]) -> str:
    status = str(item.get("status", ""))
    return status.rsplit("_", 1)[-1] if status else "-"


def _tick_times(tick: dict[str, Any]) -> str:
    """The tick's time; for a sensor's repeated skip, the first and last and how many."""
    repeats = int(tick.get("repeatCount", 1))
    if repeats <= 1:
        return when(tick.get("tickTime"))
    return f"{when(tick.get('tickTime'))} .. {when(tick.get('lastTickTime'))} ({repeats}x)"


def _tick_status(tick: dict[str, Any]) -> str:
    return str(tick.get("status", "TICK_STATUS_UNSPECIFIED")).removeprefix("TICK_STATUS_")


def _last_tick(item: dict[str, Any]) -> str:
    tick = item.get("lastTick")
    if not tick:
        return "-"
    detail = _detail(tick)
    return f"{_tick_status(tick)} {when(tick.get('tickTime'))}" + (f": {detail}" if detail else "")


def _detail(tick: dict[str, Any]) -> str:
    error = tick.get("error", {}).get("message")
    return shorten(error or tick.get("skipReason", ""), 80)
