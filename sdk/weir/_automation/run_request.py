"""What schedule and sensor functions return: RunRequest, SkipReason, SensorResult."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from weir._errors import DefinitionError
from weir._execution.events import AssetCheckEvaluation, AssetMaterialization
from weir._key import AssetKey


def str_mapping(value: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    """Copy tags, checking every key and value is a string."""
    out: dict[str, str] = {}
    for k, v in (value or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise DefinitionError(f"{what} must map str to str, got {k!r}: {v!r}")
        out[k] = v
    return out


@dataclass(frozen=True)
class RunRequest:
    """Ask for one run: of a job, of some assets, for one partition.

    `run_key` makes the request idempotent: a sensor that requests the same key on a later
    tick launches nothing new. `job_name` may be left out when the schedule or sensor targets
    exactly one job.

    >>> RunRequest(run_key="file-1.csv", tags={"source": "s3"}).run_key
    'file-1.csv'
    """

    run_key: str | None = None
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    job_name: str | None = None
    asset_selection: tuple[AssetKey, ...] | None = None
    partition_key: str | None = None

    def __init__(
        self,
        run_key: str | None = None,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        asset_selection: Iterable[Any] | None = None,
        partition_key: str | None = None,
    ):
        if run_key is not None and not isinstance(run_key, str):
            raise DefinitionError(f"RunRequest run_key must be a string, got {run_key!r}")
        if run_config is not None and not isinstance(run_config, Mapping):
            raise DefinitionError(
                f"RunRequest run_config must be a dict such as "
                f"{{'ops': {{'my_asset': {{'config': {{...}}}}}}}}, got {type(run_config).__name__}"
            )
        if partition_key is not None and not isinstance(partition_key, str):
            raise DefinitionError(
                f"RunRequest partition_key must be a string, got {partition_key!r}"
            )
        set_ = object.__setattr__
        set_(self, "run_key", run_key)
        set_(self, "run_config", dict(run_config or {}))
        set_(self, "tags", str_mapping(tags, "RunRequest tags"))
        set_(self, "job_name", job_name)
        set_(
            self,
            "asset_selection",
            None
            if asset_selection is None
            else tuple(AssetKey.from_coercible(k) for k in asset_selection),
        )
        set_(self, "partition_key", partition_key)

    def with_changes(self, **changes: Any) -> RunRequest:
        """A copy with the given fields replaced."""
        return replace(self, **changes)


@dataclass(frozen=True)
class SkipReason:
    """Say why a tick launched nothing; shown in the tick history.

    >>> SkipReason("No new files in s3://bucket/landing").skip_message
    'No new files in s3://bucket/landing'
    """

    skip_message: str | None = None


@dataclass(frozen=True)
class AddDynamicPartitionsRequest:
    """Add keys to a dynamic partitions definition, applied when the sensor's tick is stored."""

    partitions_def_name: str
    partition_keys: tuple[str, ...]

    def __init__(self, partitions_def_name: str, partition_keys: Iterable[str]):
        object.__setattr__(self, "partitions_def_name", partitions_def_name)
        object.__setattr__(self, "partition_keys", tuple(partition_keys))


@dataclass(frozen=True)
class DeleteDynamicPartitionsRequest:
    """Remove keys from a dynamic partitions definition, applied when the tick is stored."""

    partitions_def_name: str
    partition_keys: tuple[str, ...]

    def __init__(self, partitions_def_name: str, partition_keys: Iterable[str]):
        object.__setattr__(self, "partitions_def_name", partitions_def_name)
        object.__setattr__(self, "partition_keys", tuple(partition_keys))


DynamicPartitionsRequest = AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest


@dataclass(frozen=True)
class SensorResult:
    """Everything one sensor tick decided: runs to launch or a reason to skip, a new cursor,
    changes to dynamic partitions, and asset events to report (materializations or check
    evaluations of work the sensor saw done elsewhere).

    >>> SensorResult(run_requests=[RunRequest(run_key="a")], cursor="a").cursor
    'a'
    """

    run_requests: tuple[RunRequest, ...] = ()
    skip_reason: SkipReason | None = None
    cursor: str | None = None
    dynamic_partitions_requests: tuple[DynamicPartitionsRequest, ...] = ()
    asset_events: tuple[AssetMaterialization | AssetCheckEvaluation, ...] = ()

    def __init__(
        self,
        run_requests: Sequence[RunRequest] | None = None,
        skip_reason: SkipReason | str | None = None,
        cursor: str | None = None,
        dynamic_partitions_requests: Sequence[DynamicPartitionsRequest] | None = None,
        asset_events: Sequence[AssetMaterialization | AssetCheckEvaluation] | None = None,
    ):
        requests = tuple(run_requests or ())
        for request in requests:
            if not isinstance(request, RunRequest):
                raise DefinitionError(
                    f"SensorResult run_requests must be RunRequest objects, got {request!r}"
                )
        reason = SkipReason(skip_reason) if isinstance(skip_reason, str) else skip_reason
        if reason is not None and requests:
            raise DefinitionError(
                "SensorResult has both run_requests and a skip_reason; a tick either launches "
                "runs or says why it skipped, so pass one of them"
            )
        if cursor is not None and not isinstance(cursor, str):
            raise DefinitionError(
                f"SensorResult cursor must be a string (serialize it, e.g. with json.dumps), "
                f"got {type(cursor).__name__}"
            )
        for change in dynamic_partitions_requests or ():
            if not isinstance(change, AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest):
                raise DefinitionError(
                    "SensorResult dynamic_partitions_requests must be AddDynamicPartitionsRequest "
                    f"or DeleteDynamicPartitionsRequest objects, got {change!r}"
                )
        for event in asset_events or ():
            if not isinstance(event, AssetMaterialization | AssetCheckEvaluation):
                raise DefinitionError(
                    "SensorResult asset_events must be AssetMaterialization or "
                    f"AssetCheckEvaluation objects, got {event!r}"
                )
        set_ = object.__setattr__
        set_(self, "asset_events", tuple(asset_events or ()))
        set_(self, "run_requests", requests)
        set_(self, "skip_reason", reason)
        set_(self, "cursor", cursor)
        set_(self, "dynamic_partitions_requests", tuple(dynamic_partitions_requests or ()))
