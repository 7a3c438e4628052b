"""The values storage takes and returns: plain frozen dataclasses and enums.

Storage speaks no protobuf; the API layer converts between these and `weir_protos`
messages. Asset keys are the slash-joined path (`AssetKey(["a", "b"])` is `"a/b"`),
an unpartitioned asset's partition is `None` on the way in and out, and every
timestamp is a timezone-aware UTC `datetime`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DeploymentScope:
    """The deployment every tenant query is confined to.

    Obtain one from `DeploymentStorage.get_scope("prod")`; never build it from
    request input directly.
    """

    deployment_id: int
    name: str


class RunStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_RUN_STATUSES


TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED})
IN_PROGRESS_RUN_STATUSES = frozenset({RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING})


class EventType(enum.StrEnum):
    """The event types storage interprets to keep derived tables current.

    Any other string is stored and returned as is (step events, logs, ...).
    """

    RUN_STARTED = "RUN_STARTED"
    RUN_SUCCESS = "RUN_SUCCESS"
    RUN_FAILURE = "RUN_FAILURE"
    RUN_CANCELED = "RUN_CANCELED"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_FAILED_TO_MATERIALIZE = "ASSET_FAILED_TO_MATERIALIZE"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    STEP_FAILURE = "STEP_FAILURE"
    ENGINE = "ENGINE"  # a note from the control plane, such as a run's recovery


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a cursor-paginated listing; pass `next_cursor` back for the next."""

    items: tuple[T, ...]
    next_cursor: str | None


# --- runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRun:
    """What a caller supplies to create a run; the run starts QUEUED.

    Example: `storage.runs.create_run(scope, NewRun(code_location="quickstart",
    selection="orders+", asset_keys=("orders", "revenue"), tags={"weir/run_key": "k1"}))`
    """

    code_location: str
    selection: str = ""
    asset_keys: tuple[str, ...] = ()
    partition_key: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    run_config: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None  # a fresh uuid4 when not given
    # STARTED for a run no worker executes, whose events the control plane stores itself
    # (a sensor's reported materializations): the run queue never claims it.
    status: RunStatus = RunStatus.QUEUED


@dataclass(frozen=True)
class TagConcurrencyLimit:
    """At most `limit` runs in progress at once among the runs carrying tag `key`.

    With `value`, only runs tagged ``key=value`` count (``team=finance`` at most 2). Without
    it, every run with the key counts toward one shared limit, or, with
    `per_unique_value`, toward a separate limit for each value (each team at most 2).
    """

    key: str
    limit: int
    value: str | None = None
    per_unique_value: bool = False


@dataclass(frozen=True)
class Run:
    run_id: str
    code_location: str
    status: RunStatus
    selection: str
    asset_keys: tuple[str, ...]
    partition_key: str | None
    tags: Mapping[str, str]
    run_config: Mapping[str, Any]
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    last_heartbeat_at: datetime | None
    worker_address: str | None
    worker_pid: int | None
    last_event_sequence: int
    launched_by: str | None = None  # the replica that claimed it from the queue
    worker_lost: bool = False  # failed by the run monitor for a silent worker


@dataclass(frozen=True)
class RunFilter:
    """Filters for `RunStorage.list_runs`; every given filter must match."""

    statuses: frozenset[RunStatus] | None = None
    code_location: str | None = None
    # Runs of these code locations only (what the caller may see); None for all.
    code_locations: frozenset[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    asset_key: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MetadataItem:
    """One typed metadata entry of a materialization, as stored for search: text-like
    values (text, url, path, md, json, asset, timestamp) in `text`, numbers and booleans
    in `number`; `value_type` names the original type ("int", "url", ...)."""

    key: str
    value_type: str
    text: str | None = None
    number: float | None = None


@dataclass(frozen=True)
class NewEvent:
    """One run event as a worker reports it.

    `sequence` numbers a run's events 1, 2, 3, ... and makes re-delivery idempotent;
    it is None only for events the control plane records itself (`EventIngest.record`).
    `payload` is the serialized protobuf event, stored and returned untouched.
    `check_passed` and `check_severity` are read only from ASSET_CHECK_EVALUATION.
    """

    sequence: int | None
    event_type: str
    timestamp: datetime
    step_key: str | None = None
    asset_key: str | None = None
    partition: str | None = None
    check_name: str | None = None
    message: str | None = None
    payload: bytes | None = None
    check_passed: bool | None = None
    check_severity: str | None = None
    # ASSET_MATERIALIZATION only: its metadata entries, stored searchable.
    metadata: tuple[MetadataItem, ...] = ()


@dataclass(frozen=True)
class EventRecord:
    """A stored event. `event_id` is global and monotonic: the cursor of every event feed.

    `sequence` is None for events the control plane itself recorded (for example the
    run monitor's RUN_FAILURE), which sit outside the worker's numbering.
    """

    event_id: int
    run_id: str
    sequence: int | None
    event_type: str
    timestamp: datetime
    step_key: str | None
    asset_key: str | None
    partition: str | None
    check_name: str | None
    message: str | None
    payload: bytes | None


@dataclass(frozen=True)
class EventPage:
    """A slice of an event feed. `cursor` resumes after it, even when it is empty."""

    items: tuple[EventRecord, ...]
    cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class IngestResult:
    """What `EventIngest.store_batch` did: how many events were new, and the ack.

    `acknowledged_sequence` is the highest sequence up to which every event of the run
    is stored: the worker may drop everything up to it from its retry buffer.
    """

    inserted: int
    acknowledged_sequence: int
    # Events that continued the run's prefix but came after the event that ended the
    # run: not stored. `status` is the run's status after the batch.
    refused: int = 0
    status: RunStatus | None = None
    # The run was failed as lost, and its worker's record may still recover it: the
    # worker should go on delivering.
    recoverable: bool = False


# --- assets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetSummary:
    asset_key: str
    latest_materialization: EventRecord | None
    materialization_count: int


@dataclass(frozen=True)
class PartitionCounts:
    """Partitions whose latest outcome is a materialization, and those whose is a failure."""

    materialized: int = 0
    failed: int = 0


class PartitionOutcome(enum.StrEnum):
    """A partition's latest outcome: materialized, or failed since it last was."""

    MATERIALIZED = "MATERIALIZED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class CheckResult:
    asset_key: str
    check_name: str
    partition: str | None
    passed: bool
    severity: str | None
    event_id: int
    run_id: str
    timestamp: datetime


# --- code locations -------------------------------------------------------------------


class CodeLocationSource(enum.StrEnum):
    """Where a code location was declared, which decides what removes it."""

    WORKSPACE = "workspace"  # the workspace file; gone from the file, gone on next start
    API = "api"  # CreateCodeLocation; stays until DeleteCodeLocation


class CodeLocationStatus(enum.StrEnum):
    LOADING = "LOADING"
    LOADED = "LOADED"
    ERROR = "ERROR"
    UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True)
class CodeLocation:
    name: str
    address: str | None
    command: str | None
    status: CodeLocationStatus
    error_message: str | None
    snapshot_hash: str | None
    updated_at: datetime
    source: CodeLocationSource = CodeLocationSource.WORKSPACE
