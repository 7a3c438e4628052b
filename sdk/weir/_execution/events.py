"""The events of a run, in the shapes Dagster users know (`event.asset_key`,
`event.materialization.metadata["rows"].value`, `evaluation.passed`).

The run worker turns each into a wire-contract RunEvent; in-process results keep them as is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from weir._key import AssetKey
from weir._metadata import MetadataValue, normalize_metadata
from weir._results import AssetCheckSeverity


class EventType(StrEnum):
    RUN_START = "RUN_START"
    RUN_SUCCESS = "RUN_SUCCESS"
    RUN_FAILURE = "RUN_FAILURE"
    RUN_CANCELED = "RUN_CANCELED"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    LOG = "LOG"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A failure as text: no exception objects cross a process boundary."""

    message: str
    cls_name: str
    stack: str = ""
    cause: ErrorInfo | None = None

    def to_string(self) -> str:
        return f"{self.cls_name}: {self.message}" + (f"\n{self.stack}" if self.stack else "")


@dataclass(frozen=True, slots=True)
class AssetMaterialization:
    """An asset (partition) materialized: made by runs, or reported for work done elsewhere
    with `Instance.report_runless_asset_event`.

    >>> AssetMaterialization("orders", metadata={"rows": 3}).metadata["rows"].value
    3
    """

    asset_key: AssetKey
    description: str | None = None  # fields in Dagster's order, for positional use
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    partition: str | None = None

    def __post_init__(self) -> None:
        # As Dagster's: the key from a string or a path, metadata values wrapped.
        if not isinstance(self.asset_key, AssetKey):
            object.__setattr__(self, "asset_key", AssetKey.from_coercible(self.asset_key))
        if any(not isinstance(v, MetadataValue) for v in self.metadata.values()):
            object.__setattr__(self, "metadata", normalize_metadata(self.metadata))


@dataclass(frozen=True, slots=True)
class AssetCheckEvaluation:
    asset_key: AssetKey
    check_name: str
    passed: bool
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    description: str | None = None
    blocking: bool = False
    partition: str | None = None


@dataclass(frozen=True, slots=True)
class StepFailureData:
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class StepRetryData:
    """Why a step is up for retry, and how long it waits before the next attempt."""

    error: ErrorInfo
    wait_seconds: float


@dataclass(slots=True)
class WeirEvent:
    """One event of a run. `event_specific_data` holds the materialization, check evaluation,
    or failure data, also reachable through the typed properties."""

    event_type: EventType
    run_id: str
    step_key: str | None = None
    message: str = ""
    event_specific_data: (
        AssetMaterialization | AssetCheckEvaluation | StepFailureData | StepRetryData | None
    ) = None
    level: int = 20  # logging.INFO; meaningful for LOG events
    timestamp: float = field(default_factory=time.time)

    @property
    def event_type_value(self) -> str:
        return self.event_type.value

    @property
    def is_step_failure(self) -> bool:
        return self.event_type is EventType.STEP_FAILURE

    @property
    def is_step_success(self) -> bool:
        return self.event_type is EventType.STEP_SUCCESS

    @property
    def is_step_skipped(self) -> bool:
        return self.event_type is EventType.STEP_SKIPPED

    @property
    def materialization(self) -> AssetMaterialization | None:
        data = self.event_specific_data
        return data if isinstance(data, AssetMaterialization) else None

    @property
    def asset_check_evaluation(self) -> AssetCheckEvaluation | None:
        data = self.event_specific_data
        return data if isinstance(data, AssetCheckEvaluation) else None

    @property
    def step_failure_data(self) -> StepFailureData | None:
        data = self.event_specific_data
        return data if isinstance(data, StepFailureData) else None

    @property
    def asset_key(self) -> AssetKey | None:
        data = self.event_specific_data
        if isinstance(data, (AssetMaterialization, AssetCheckEvaluation)):
            return data.asset_key
        return None

    @property
    def partition(self) -> str | None:
        data = self.event_specific_data
        if isinstance(data, (AssetMaterialization, AssetCheckEvaluation)):
            return data.partition
        return None
