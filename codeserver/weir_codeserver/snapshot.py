"""Definitions -> weir.v1 DefinitionsSnapshot, serialized once, hashed, and split for streaming.

Each asset, job, schedule, sensor and resource is serialized on its own (deterministically)
and the snapshot is their concatenation in field order, which is byte for byte what
protobuf's deterministic serialization of the whole message gives. Working from those
pieces makes the content hash cheap, and each streamed part a slice of the one copy of the
whole that the server keeps (replies are framed from it as they are sent).

>>> from weir import Definitions, asset
>>> @asset
... def a() -> int:
...     return 1
>>> built = build_snapshot(Definitions(assets=[a]), resources={})
>>> built.content_hash.startswith("sha256:"), built.asset_count
(True, 1)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from weir import AssetKey, Definitions
from weir._automation.asset_sensors import AssetSensorDefinition
from weir._automation.run_status_sensors import RunStatus, RunStatusSensorDefinition
from weir._automation.schedules import DefaultScheduleStatus, ScheduleDefinition
from weir._automation.sensors import DefaultSensorStatus, SensorDefinition
from weir._automation.targets import ANONYMOUS_JOB_PREFIX
from weir._checks import AssetChecksDefinition, AssetCheckSpec
from weir._errors import SelectionError
from weir._graph import AssetGraph
from weir._resources import is_io_manager_binding
from weir._results import AssetCheckKey
from weir._selection import AssetSelection
from weir._specs import AssetDep
from weir_protos.v1 import definitions_pb2, partitions_pb2, runs_pb2

from weir_codeserver.wire_automation import (
    automation_condition_message,
    backfill_policy_message,
    freshness_policy_message,
    retry_policy_message,
)
from weir_codeserver.wire_partitions import (
    UnsupportedOnWireError,
    partition_mapping_message,
    partitions_def_message,
)
from weir_codeserver.wire_values import (
    asset_key_message,
    check_key_message,
    duration_message,
    metadata_entries,
    python_type_name,
    struct_message,
)

log = logging.getLogger(__name__)
_Sdk = TypeVar("_Sdk")
_Message = TypeVar("_Message", bound=Message)

# DefinitionsSnapshot field numbers (see definitions.proto).
_CONTENT_HASH, _ASSETS, _JOBS, _SCHEDULES, _SENSORS, _RESOURCES = 1, 2, 3, 4, 5, 6
# Parts of StreamDefinitions: at most this many assets, and about this many bytes.
PART_MAX_ASSETS = 1000
PART_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class BuiltSnapshot:
    """One snapshot, kept once: the whole message, and where it splits into the parts of
    StreamDefinitions (each part is a run of whole fields, so a slice of the whole)."""

    content_hash: str
    snapshot_bytes: bytes  # a serialized DefinitionsSnapshot, content_hash set
    part_ends: tuple[int, ...]  # where each part ends in snapshot_bytes; the last at its end
    asset_count: int

    @property
    def part_bytes(self) -> tuple[bytes, ...]:
        """The serialized DefinitionsSnapshot parts, in order; merged they are the whole."""
        return tuple(self.framed_parts(lambda part: bytes(part)))

    def framed_parts(self, frame: Callable[[memoryview], bytes]) -> Iterator[bytes]:
        """Each part as `frame` wraps it, made as it is asked for: a reply of a large
        snapshot holds one part's copy at a time, not a second copy of the whole."""
        whole = memoryview(self.snapshot_bytes)
        start = 0
        for end in self.part_ends:
            yield frame(whole[start:end])
            start = end

    def message(self) -> definitions_pb2.DefinitionsSnapshot:
        return definitions_pb2.DefinitionsSnapshot.FromString(self.snapshot_bytes)


def build_snapshot(defs: Definitions, resources: Mapping[str, Any]) -> BuiltSnapshot:
    """Convert `defs` (with the `resources` the code server actually binds) once."""
    entries = list(_SnapshotWriter(defs, resources).entries())
    body = b"".join(data for _, data in entries)
    content_hash = "sha256:" + hashlib.sha256(body).hexdigest()
    head = length_delimited(_CONTENT_HASH, content_hash.encode())
    return BuiltSnapshot(
        content_hash=content_hash,
        snapshot_bytes=head + body,
        part_ends=tuple(_part_ends(len(head), entries)),
        asset_count=sum(1 for number, _ in entries if number == _ASSETS),
    )


def _part_ends(head_size: int, entries: list[tuple[int, bytes]]) -> Iterable[int]:
    """Where each part ends: at most PART_MAX_ASSETS assets and, unless one entry is
    larger, PART_MAX_BYTES bytes each; the first part starts with the content hash."""
    offset = size = head_size
    assets = 0
    for number, data in entries:
        full = (number == _ASSETS and assets >= PART_MAX_ASSETS) or size + len(
            data
        ) > PART_MAX_BYTES
        if full and size:
            yield offset
            size, assets = 0, 0
        offset += len(data)
        size += len(data)
        assets += number == _ASSETS
    yield offset


def length_delimited(number: int, payload: bytes | memoryview) -> bytes:
    return b"".join((_varint((number << 3) | 2), _varint(len(payload)), payload))


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _serialize(number: int, message: Message) -> tuple[int, bytes]:
    return number, length_delimited(number, message.SerializeToString(deterministic=True))


class _Memo(Generic[_Sdk, _Message]):
    """A converter that converts each object once, however many definitions share it."""

    def __init__(self, convert: Callable[[_Sdk], _Message]):
        self.convert = convert
        self._done: dict[int, tuple[_Sdk, _Message]] = {}

    def __call__(self, obj: _Sdk) -> _Message:
        done = self._done.get(id(obj))
        if done is None:
            done = self._done[id(obj)] = (obj, self.convert(obj))  # obj kept: ids stay unique
        return done[1]


class _SnapshotWriter:
    def __init__(self, defs: Definitions, resources: Mapping[str, Any]):
        self.defs = defs
        self.graph: AssetGraph = defs.get_asset_graph()
        self.resources = resources
        self.job_keys = {
            name: job.resolve_keys(self.graph) for name, job in sorted(defs.jobs.items())
        }
        self.jobs_of_key: dict[AssetKey, list[str]] = {}
        for name, keys in self.job_keys.items():
            for key in keys:
                self.jobs_of_key.setdefault(key, []).append(name)
        self.position = {key: i for i, key in enumerate(self.graph.toposorted_keys)}
        # Many assets share one partitions definition or condition object; convert it once.
        self._partitions = _Memo(partitions_def_message)
        self._conditions = _Memo(automation_condition_message)
        self._mappings = _Memo(partition_mapping_message)

    def entries(self) -> Iterable[tuple[int, bytes]]:
        for key in self.graph.toposorted_keys:
            yield _serialize(_ASSETS, self.asset_node(key))
        for name in self.job_keys:
            yield _serialize(_JOBS, self.job(name))
        for name in sorted(self.defs.schedules):
            yield _serialize(_SCHEDULES, self.schedule(self.defs.schedules[name]))
        for name in sorted(self.defs.sensors):
            yield _serialize(_SENSORS, self.sensor(self.defs.sensors[name]))
        for resource_key in sorted(self.resources):
            resource = self.resources[resource_key]
            yield _serialize(_RESOURCES, self.resource(resource_key, resource))

    # ---- assets ------------------------------------------------------------------------

    def asset_node(self, key: AssetKey) -> definitions_pb2.AssetNode:
        spec = self.graph.specs[key]
        ad = self.graph.assets_def_by_key[key]
        node = definitions_pb2.AssetNode(
            group_name=spec.group_name or "default",
            is_executable=ad.is_executable,
            skippable=spec.skippable,
            node_name=ad.node_name,
            can_subset=ad.can_subset,
            io_manager_key=ad.io_manager_key_for(key),
            required_resource_keys=sorted(ad.required_resource_keys),
        )
        node.key.path.extend(key.path)
        # Most assets leave these empty: a field left out costs nothing, while the
        # constructor pays for each one given (10,000 assets: a third of the build).
        if spec.description:
            node.description = spec.description
        if spec.metadata:
            node.metadata.extend(metadata_entries(spec.metadata))
        if spec.tags:
            node.tags.update(spec.tags)
        if spec.owners:
            node.owners.extend(spec.owners)
        if spec.kinds:
            node.kinds.extend(sorted(spec.kinds))
        if spec.code_version:
            node.code_version = spec.code_version
        if ad.pool:
            node.pool = ad.pool
        jobs = self.jobs_of_key.get(key)
        if jobs:
            node.job_names.extend(jobs)
        for dep in spec.deps:
            edge = node.deps.add()
            edge.asset_key.path.extend(dep.asset_key.path)
            if dep.partition_mapping is not None:
                mapping = self._mapping(key, dep)
                if mapping is not None:
                    edge.partition_mapping.CopyFrom(mapping)
        if spec.partitions_def is not None:
            node.partitions_def.CopyFrom(self._partitions(spec.partitions_def))
        for check_key in self.graph.check_keys_by_asset.get(key, ()):
            node.check_specs.append(self.check_spec(check_key))
        if spec.automation_condition is not None:
            node.automation_condition.CopyFrom(self._conditions(spec.automation_condition))
        if spec.freshness_policy is not None:
            node.freshness_policy.CopyFrom(freshness_policy_message(spec.freshness_policy))
        if ad.backfill_policy is not None:
            node.backfill_policy.CopyFrom(backfill_policy_message(ad.backfill_policy))
        if ad.retry_policy is not None:
            node.retry_policy.CopyFrom(retry_policy_message(ad.retry_policy))
        return node

    def _mapping(self, key: AssetKey, dep: AssetDep) -> partitions_pb2.PartitionMapping | None:
        try:
            return self._mappings(dep.partition_mapping)
        except UnsupportedOnWireError as exc:
            # The control plane then applies the default mapping; say so rather than fail
            # the whole location over one edge.
            log.warning(
                "Asset %s: dependency on %s sent with the default partition mapping: %s",
                key.to_user_string(),
                dep.asset_key.to_user_string(),
                exc,
            )
            return None

    def check_spec(self, check_key: AssetCheckKey) -> definitions_pb2.AssetCheckSpec:
        owner = self.graph.checks_by_key[check_key]
        spec: AssetCheckSpec
        if isinstance(owner, AssetChecksDefinition):  # its own step evaluates it
            spec = owner.spec
        else:  # declared on the asset: the asset's own step evaluates it
            spec = next(s for s in owner.check_specs if s.key == check_key)
        return check_spec_message(spec, node_name=owner.node_name)

    # ---- jobs, schedules, sensors, resources -------------------------------------------

    def job(self, name: str) -> definitions_pb2.JobSnapshot:
        job = self.defs.jobs[name]
        keys = sorted(self.job_keys[name], key=self.position.__getitem__)
        message = definitions_pb2.JobSnapshot(
            name=name,
            description=job.description or "",
            asset_keys=[asset_key_message(k) for k in keys],
            asset_check_keys=[
                check_key_message(ck.asset_key, ck.name)
                for k in keys
                for ck in self.graph.check_keys_by_asset.get(k, ())
            ],
            selection=_selection_text(job.selection),
            tags=job.tags,
            run_tags=job.run_tags,
            metadata=metadata_entries(job.metadata),
        )
        if job.config is not None:
            message.run_config.CopyFrom(struct_message(job.config))
        partitions_def = job.partitions_def or next(
            (
                self.graph.specs[k].partitions_def
                for k in keys
                if self.graph.specs[k].partitions_def
            ),
            None,
        )
        if partitions_def is not None:
            message.partitions_def.CopyFrom(self._partitions(partitions_def))
        return message

    def schedule(self, schedule: ScheduleDefinition) -> definitions_pb2.ScheduleSnapshot:
        return schedule_message(schedule)

    def sensor(self, sensor: SensorDefinition) -> definitions_pb2.SensorSnapshot:
        message = sensor_message(sensor)
        # Assets a sensor launches directly: its asset target, an anonymous job.
        job_names = sensor.job_names
        if len(job_names) == 1 and job_names[0].startswith(ANONYMOUS_JOB_PREFIX):
            keys = sorted(self.job_keys.get(job_names[0], ()), key=self.position.__getitem__)
            message.target_asset_keys.extend(asset_key_message(k) for k in keys)
        return message

    def resource(self, key: str, resource: object) -> definitions_pb2.ResourceSnapshot:
        # The SDK gives resources no description of their own, so none is sent.
        return definitions_pb2.ResourceSnapshot(
            key=key,
            type_name=python_type_name(resource),
            is_io_manager=is_io_manager_binding(resource),
        )


def check_spec_message(spec: AssetCheckSpec, node_name: str) -> definitions_pb2.AssetCheckSpec:
    return definitions_pb2.AssetCheckSpec(
        name=spec.name,
        asset_key=asset_key_message(spec.asset_key),
        description=spec.description or "",
        blocking=spec.blocking,
        additional_deps=[asset_key_message(k) for k in spec.additional_deps],
        node_name=node_name,
    )


def schedule_message(schedule: ScheduleDefinition) -> definitions_pb2.ScheduleSnapshot:
    crons = schedule.cron_schedules
    return definitions_pb2.ScheduleSnapshot(
        name=schedule.name,
        cron_schedule=crons[0],
        cron_schedules=crons if len(crons) > 1 else (),
        timezone=schedule.execution_timezone,
        job_name=schedule.job_name,
        default_status=_DEFAULT_SCHEDULE_STATUS[schedule.default_status],
        description=schedule.description or "",
        tags=schedule.tags,
        metadata=metadata_entries(schedule.metadata),
    )


def sensor_message(sensor: SensorDefinition) -> definitions_pb2.SensorSnapshot:
    """A sensor's own fields; the snapshot adds the assets an asset-targeting sensor runs."""
    message = definitions_pb2.SensorSnapshot(
        name=sensor.name,
        sensor_type=definitions_pb2.SENSOR_TYPE_STANDARD,
        job_names=sensor.job_names,
        minimum_interval=duration_message(sensor.minimum_interval_seconds),
        default_status=_DEFAULT_SENSOR_STATUS[sensor.default_status],
        description=sensor.description or "",
        tags=sensor.tags,
        metadata=metadata_entries(sensor.metadata),
    )
    if isinstance(sensor, AssetSensorDefinition):
        message.sensor_type = definitions_pb2.SENSOR_TYPE_ASSET
        message.monitored_asset_keys.append(asset_key_message(sensor.asset_key))
    elif isinstance(sensor, RunStatusSensorDefinition):
        message.sensor_type = definitions_pb2.SENSOR_TYPE_RUN_STATUS
        message.run_status = _RUN_STATUS[sensor.run_status]
        message.monitored_job_names.extend(sorted(sensor.monitored_job_names))
    return message


_DEFAULT_SCHEDULE_STATUS = {
    DefaultScheduleStatus.STOPPED: definitions_pb2.DEFAULT_STATUS_STOPPED,
    DefaultScheduleStatus.RUNNING: definitions_pb2.DEFAULT_STATUS_RUNNING,
}
_RUN_STATUS = {
    RunStatus.QUEUED: runs_pb2.RUN_STATUS_QUEUED,
    RunStatus.STARTING: runs_pb2.RUN_STATUS_STARTING,
    RunStatus.STARTED: runs_pb2.RUN_STATUS_STARTED,
    RunStatus.SUCCESS: runs_pb2.RUN_STATUS_SUCCESS,
    RunStatus.FAILURE: runs_pb2.RUN_STATUS_FAILURE,
    RunStatus.CANCELED: runs_pb2.RUN_STATUS_CANCELED,
}
_DEFAULT_SENSOR_STATUS = {
    DefaultSensorStatus.STOPPED: definitions_pb2.DEFAULT_STATUS_STOPPED,
    DefaultSensorStatus.RUNNING: definitions_pb2.DEFAULT_STATUS_RUNNING,
}


def _selection_text(selection: object) -> str:
    """The selection as the user wrote it; empty when it was given as keys or assets."""
    if isinstance(selection, str):
        return selection
    if isinstance(selection, AssetSelection):
        try:
            return selection.to_selection_str()
        except SelectionError:  # a selection with no string form (e.g. key prefixes)
            return ""
    return ""
