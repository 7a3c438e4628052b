"""One engine-neutral interface for steps that run apart from their run's process.

A `StepLauncher` starts an attempt of a step (`launch(spec) -> Handle`), reports on many
at once (`observe(handles)`) and stops one (`terminate(handle, grace)`). Child processes
(the multiprocess executor) and Celery tasks sit behind it; Kubernetes Jobs, Dask or Ray
fit the same shape. Each attempt has a deterministic launch key, the engine's task id,
so launching the same attempt again after a crash finds the same task.

`observe` says whether an attempt has ended and how; where the step's worker reports
its events elsewhere (to the control plane), `Observation.events` stays empty.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from weir._execution.events import WeirEvent


def launch_key(run_id: str, step_key: str, attempt: int, partition_key: str | None = None) -> str:
    """``weir-<hash(run_id, step, partition)>-<attempt>``: DNS-label safe, at most 63 chars."""
    digest = hashlib.sha1(f"{run_id}\0{step_key}\0{partition_key or ''}".encode()).hexdigest()
    return f"weir-{digest[:20]}-{attempt}"


@dataclass(frozen=True)
class LaunchSpec:
    """One attempt of one step. Carries no credentials of the run's database, ever."""

    run_id: str
    step_key: str
    attempt: int
    partition_key: str | None = None
    queue: str | None = None

    @property
    def launch_key(self) -> str:
        return launch_key(self.run_id, self.step_key, self.attempt, self.partition_key)


@dataclass(frozen=True)
class Handle:
    """What a launcher knows of a launched attempt, by its launch key."""

    engine: str
    spec: LaunchSpec
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def launch_key(self) -> str:
        return self.spec.launch_key


class Phase(enum.Enum):
    PENDING = "pending"  # launched, not started
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the step failed (its failure event is reported)
    LOST = "lost"  # its worker went away; `reason` says how. A new attempt may follow.
    CANCELED = "canceled"  # terminated before it started

    @property
    def ended(self) -> bool:
        return self not in (Phase.PENDING, Phase.RUNNING)


@dataclass
class Observation:
    phase: Phase
    events: list[WeirEvent] = field(default_factory=list)  # relayed through the launcher
    produced: tuple[Any, ...] = ()  # AssetKeys the step materialized, once it succeeded
    exception: BaseException | None = None  # a failed step's error, where it is known
    reason: str | None = None  # why it is LOST or FAILED
    outputs: dict[tuple[str, str], Any] = field(default_factory=dict)  # captured values
    # The step's worker started it (its events say so, wherever they were reported).
    started: bool = False


class StepLauncher(Protocol):
    engine: str

    def launch(self, spec: LaunchSpec) -> Handle:
        """Start the attempt; launching an attempt already launched does nothing new."""
        ...

    def observe(self, handles: Sequence[Handle]) -> Mapping[str, Observation]:
        """News of some of `handles`, by launch key; waits a little when there is none.
        A handle left out has nothing new."""
        ...

    def terminate(self, handle: Handle, grace: float) -> None:
        """Ask the attempt to stop; past `grace` seconds, stop it. Idempotent."""
        ...

    def close(self) -> None:
        """Release what is left of the launched attempts (reap processes, close clients)."""
        ...
