"""Definitions -> weir.v1 DefinitionsSnapshot, serialized once, hashed, and split for streaming.

Each asset, job, schedule, sensor and resource is serialized on its own (deterministically)
and the snapshot is their concatenation in field order, which is byte for byte what
protobuf's deterministic serialization of the whole message gives. Working from those
pieces makes the content hash, the whole-message reply and the streamed parts cheap
slices of one build, done once at load.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir import AssetKey, Definitions, IOManager
from weir._graph import AssetGraph
from weir_protos.v1 import definitions_pb2, runs_pb2

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

# DefinitionsSnapshot field numbers (see definitions.proto).
_CONTENT_HASH, _ASSETS, _JOBS, _SCHEDULES, _SENSORS, _RESOURCES = 1, 2, 3, 4, 5, 6
# Parts of StreamDefinitions: at most this many assets, and about this many bytes.
PART_MAX_ASSETS = 1000
PART_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class BuiltSnapshot:
    """One snapshot in the forms the server sends: whole, and in parts."""

    content_hash: str
    snapshot_bytes: bytes  # a serialized DefinitionsSnapshot, content_hash set
    part_bytes: tuple[bytes, ...]  # serialized DefinitionsSnapshot parts; merge = whole
    asset_count: int

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
        part_bytes=tuple(_split(head, entries)),
        asset_count=sum(1 for number, _ in entries if number == _ASSETS),
    )


def _split(head: bytes, entries: list[tuple[int, bytes]]) -> Iterable[bytes]:
    part: list[bytes] = [head]
    size, assets = len(head), 0
    for number, data in entries:
        full = (number == _ASSETS and assets >= PART_MAX_ASSETS) or size + len(
            data
        ) > PART_MAX_BYTES
        if full and size:
            yield b"".join(part)
            part, size, assets = [], 0, 0
        part.append(data)
        size += len(data)
        assets += number == _ASSETS
    if part:
        yield b"".join(part)


def length_delimited(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _serialize(number: int, message: Any) -> tuple[int, bytes]:
    return number, length_delimited(number, message.SerializeToString(deterministic=True))


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
        self._converted: dict[int, tuple[Any, Any]] = {}

    def entries(self) -> Iterable[tuple[int, bytes]]:
        for key in self.graph.toposorted_keys:
            yield _serialize(_ASSETS, self.asset_node(key))
        for name in self.job_keys:
            yield _serialize(_JOBS, self.job(name))
        for name in sorted(self.defs.schedules):
            yield _serialize(_SCHEDULES, self.schedule(self.defs.schedules[name]))
        for name in sorted(self.defs.sensors):
            yield _serialize(_SENSORS, self.sensor(self.defs.sensors[name]))
        for key in sorted(self.resources):
            yield _serialize(_RESOURCES, self.resource(key, self.resources[key]))

    def _once(self, obj: Any, convert: Any) -> Any:
        cached = self._converted.get(id(obj))
        if cached is None:
            cached = self._converted[id(obj)] = (obj, convert(obj))  # obj kept: ids stay unique
        return cached[1]

    # ---- assets ------------------------------------------------------------------------

    def asset_node(self, key: AssetKey) -> definitions_pb2.AssetNode:
        spec = self.graph.specs[key]
        ad = self.graph.assets_def_by_key[key]
        node = definitions_pb2.AssetNode(
            key=asset_key_message(key),
            group_name=spec.group_name or "default",
            description=spec.description or "",
            metadata=metadata_entries(spec.metadata),
            tags=spec.tags,
            owners=spec.owners,
            kinds=sorted(spec.kinds),
            code_version=spec.code_version or "",
            is_executable=ad.is_executable,
            skippable=spec.skippable,
            node_name=ad.node_name,
            can_subset=ad.can_subset,
            pool=ad.pool or "",
            io_manager_key=ad.io_manager_key_for(key),
            required_resource_keys=sorted(ad.required_resource_keys),
            job_names=self.jobs_of_key.get(key, ()),
        )
        for dep in spec.deps:
            edge = node.deps.add(asset_key=asset_key_message(dep.asset_key))
            if dep.partition_mapping is not None:
                mapping = self._mapping(key, dep)
                if mapping is not None:
                    edge.partition_mapping.CopyFrom(mapping)
        if spec.partitions_def is not None:
            node.partitions_def.CopyFrom(self._once(spec.partitions_def, partitions_def_message))
        for check_key in self.graph.check_keys_by_asset.get(key, ()):
            node.check_specs.append(self.check_spec(check_key))
        if spec.automation_condition is not None:
            node.automation_condition.CopyFrom(
                self._once(spec.automation_condition, automation_condition_message)
            )
        if spec.freshness_policy is not None:
            node.freshness_policy.CopyFrom(freshness_policy_message(spec.freshness_policy))
        if ad.backfill_policy is not None:
            node.backfill_policy.CopyFrom(backfill_policy_message(ad.backfill_policy))
        if ad.retry_policy is not None:
            node.retry_policy.CopyFrom(retry_policy_message(ad.retry_policy))
        return node

    def _mapping(self, key: AssetKey, dep: Any) -> Any:
        try:
            return self._once(dep.partition_mapping, partition_mapping_message)
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

    def check_spec(self, check_key: Any) -> definitions_pb2.AssetCheckSpec:
        owner = self.graph.checks_by_key[check_key]
        spec = getattr(owner, "spec", None)
        if spec is None:  # declared on the asset: the asset's own step evaluates it
            spec = next(s for s in owner.check_specs if s.key == check_key)
        message = definitions_pb2.AssetCheckSpec(
            name=spec.name,
            asset_key=asset_key_message(spec.asset_key),
            description=spec.description or "",
            blocking=spec.blocking,
            additional_deps=[asset_key_message(k) for k in spec.additional_deps],
            node_name=owner.node_name,
        )
        condition = getattr(spec, "automation_condition", None)
        if condition is not None:
            message.automation_condition.CopyFrom(
                self._once(condition, automation_condition_message)
            )
        return message

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
            message.partitions_def.CopyFrom(self._once(partitions_def, partitions_def_message))
        return message

    def schedule(self, schedule: Any) -> definitions_pb2.ScheduleSnapshot:
        crons = list(getattr(schedule, "cron_schedules", None) or [schedule.cron_schedule])
        return definitions_pb2.ScheduleSnapshot(
            name=schedule.name,
            cron_schedule=crons[0],
            cron_schedules=crons if len(crons) > 1 else (),
            timezone=getattr(schedule, "execution_timezone", None) or "UTC",
            job_name=schedule.job_name,
            default_status=_default_status(schedule),
            description=schedule.description or "",
            tags=getattr(schedule, "tags", None) or {},
            metadata=metadata_entries(getattr(schedule, "metadata", None)),
        )

    def sensor(self, sensor: Any) -> definitions_pb2.SensorSnapshot:
        job_names = list(getattr(sensor, "job_names", None) or ())
        message = definitions_pb2.SensorSnapshot(
            name=sensor.name,
            sensor_type=_sensor_type(sensor),
            job_names=job_names,
            default_status=_default_status(sensor),
            description=sensor.description or "",
            tags=getattr(sensor, "tags", None) or {},
            metadata=metadata_entries(getattr(sensor, "metadata", None)),
        )
        interval = getattr(sensor, "minimum_interval_seconds", None)
        if interval:
            message.minimum_interval.CopyFrom(duration_message(interval))
        if message.sensor_type == definitions_pb2.SENSOR_TYPE_ASSET:
            message.monitored_asset_keys.append(asset_key_message(sensor.asset_key))
        if message.sensor_type == definitions_pb2.SENSOR_TYPE_RUN_STATUS:
            message.run_status = runs_pb2.RunStatus.Value(f"RUN_STATUS_{sensor.run_status.name}")
            message.monitored_job_names.extend(sorted(sensor.monitored_job_names))
        targets = self._sensor_targets(sensor, job_names)
        message.target_asset_keys.extend(asset_key_message(k) for k in targets)
        return message

    def _sensor_targets(self, sensor: Any, job_names: list[str]) -> list[AssetKey]:
        """Assets a sensor launches directly: its asset target (an anonymous job) or, for an
        automation sensor, the assets whose conditions it evaluates."""
        from weir._automation.targets import ANONYMOUS_JOB_PREFIX

        selection = getattr(sensor, "asset_selection", None)
        if selection is not None:
            keys: Iterable[AssetKey] = selection.resolve(self.graph)
        elif len(job_names) == 1 and job_names[0].startswith(ANONYMOUS_JOB_PREFIX):
            keys = self.job_keys.get(job_names[0], ())
        else:
            return []
        return sorted(keys, key=self.position.__getitem__)

    def resource(self, key: str, resource: Any) -> definitions_pb2.ResourceSnapshot:
        description = getattr(resource, "description", None)
        return definitions_pb2.ResourceSnapshot(
            key=key,
            type_name=python_type_name(resource),
            description=description if isinstance(description, str) else "",
            is_io_manager=isinstance(resource, IOManager),
        )


def _selection_text(selection: Any) -> str:
    if isinstance(selection, str):
        return selection
    to_text = getattr(selection, "to_selection_str", None)
    if callable(to_text):
        try:
            return to_text()
        except Exception:  # a selection with no string form (e.g. built from callables)
            return ""
    return ""


def _default_status(instigator: Any) -> int:
    status = getattr(getattr(instigator, "default_status", None), "name", "STOPPED")
    return definitions_pb2.DefaultStatus.Value(f"DEFAULT_STATUS_{status}")


def _sensor_type(sensor: Any) -> int:
    if "Automation" in type(sensor).__name__:
        return definitions_pb2.SENSOR_TYPE_AUTOMATION
    if hasattr(sensor, "asset_key"):
        return definitions_pb2.SENSOR_TYPE_ASSET
    if hasattr(sensor, "run_status"):
        return definitions_pb2.SENSOR_TYPE_RUN_STATUS
    return definitions_pb2.SENSOR_TYPE_STANDARD
