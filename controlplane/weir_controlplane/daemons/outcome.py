"""A tick's reply from its code location, turned into the tick to store.

Schedules and sensors end the same way: the function's error fails the tick, no run
request skips it, and run requests are launched (or fail the tick with the reason, when
one names an unknown job, asset or partition).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from weir_protos.v1 import common_pb2, runs_pb2

from weir_controlplane.daemons.launch import Origin, RunRequestLauncher
from weir_controlplane.daemons.loop import Clock, DaemonSettings, TickLoop
from weir_controlplane.errors import ApiError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.storage import DeploymentScope, NewTick, Storage, TickStatus


@dataclass(frozen=True)
class TickServices:
    """What the scheduler and the sensor runner tick with; `owner` names this replica's
    leases."""

    storage: Storage
    registry: CodeLocationRegistry
    launcher: RunRequestLauncher
    settings: DaemonSettings
    owner: str


class InstigatorLoop(TickLoop):
    """A tick loop over schedules or sensors: the scheduler and the sensor runner."""

    def __init__(self, services: TickServices, clock: Clock) -> None:
        super().__init__(services.storage.deployments, services.settings.interval, clock)
        self._storage = services.storage
        self._registry = services.registry
        self._launcher = services.launcher
        self._settings = services.settings
        self._owner = services.owner


def error_text(error: common_pb2.Error) -> str:
    """ "ValueError: sensor exploded", with the stack when the code location sent one."""
    head = f"{error.class_name}: {error.message}" if error.class_name else error.message
    return f"{head}\n{error.stack}".rstrip() if error.stack else head


def failed(tick_time: datetime, error: str, cursor: str | None = None) -> NewTick:
    return NewTick(
        TickStatus.FAILURE, tick_time, error=error, cursor_before=cursor, cursor_after=cursor
    )


def launched_tick(
    launcher: RunRequestLauncher,
    scope: DeploymentScope,
    origin: Origin,
    graph: SnapshotGraph,
    tick_time: datetime,
    *,
    requests: Sequence[runs_pb2.RunRequest],
    skip_reason: str,
    cursor_before: str | None = None,
    cursor_after: str | None = None,
) -> NewTick:
    """SKIPPED without requests; else the requests launched, SUCCESS (or FAILURE when a
    request cannot be run: then nothing is launched)."""
    if not requests:
        return NewTick(
            TickStatus.SKIPPED,
            tick_time,
            skip_reason=skip_reason or None,
            cursor_before=cursor_before,
            cursor_after=cursor_after,
        )
    try:
        outcome = launcher.launch(scope, origin, graph, requests)
    except ApiError as exc:
        return failed(
            tick_time, f"Could not launch the requested runs: {exc.message}", cursor_before
        )
    return NewTick(
        TickStatus.SUCCESS,
        tick_time,
        run_ids=outcome.launched,
        run_keys=outcome.run_keys,
        cursor_before=cursor_before,
        cursor_after=cursor_after,
    )
