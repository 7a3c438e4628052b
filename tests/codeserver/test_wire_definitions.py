"""Assets, deps, checks, jobs, schedules and sensors in the definitions snapshot.

One code location sets every field these definitions have to something other than its
default; each field is then read back from the snapshot the code server builds. A field
the SDK adds fails the census until it is sent or excused (see wire_coverage.py).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest
import weir as dg
from weir._automation.asset_sensors import AssetSensorDefinition
from weir._automation.run_status_sensors import RunStatus, RunStatusSensorDefinition
from weir._automation.schedules import DefaultScheduleStatus
from weir._automation.sensors import DefaultSensorStatus
from weir._metadata import normalize_metadata
from weir_codeserver.snapshot import (
    _DEFAULT_SCHEDULE_STATUS,
    _DEFAULT_SENSOR_STATUS,
    _RUN_STATUS,
    build_snapshot,
)
from weir_codeserver.wire_automation import (
    automation_condition_message,
    backfill_policy_message,
    freshness_policy_message,
    retry_policy_message,
)
from weir_codeserver.wire_partitions import partition_mapping_message, partitions_def_message
from weir_codeserver.wire_values import duration_seconds, metadata_from_entries, struct_to_dict
from weir_protos.v1 import definitions_pb2, runs_pb2
from wire_coverage import (
    Conversion,
    Sent,
    check_round_trip,
    check_sdk_fields_accounted,
    check_wire_fields_accounted,
    ids,
)

DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")


class Warehouse(dg.ConfigurableResource):
    url: str = "sqlite://"


raw = dg.AssetSpec("raw/events", partitions_def=DAYS, description="Landed by another system")


@dg.multi_asset(
    outs={
        "orders": dg.AssetOut(
            description="Every order",
            io_manager_key="lake",
            metadata={"rows": 3, "docs": dg.MetadataValue.url("https://example.com")},
            group_name="sales",
            code_version="v2",
            tags={"tier": "gold"},
            owners=["team:data", "ana@example.com"],
            kinds={"sql", "python"},
            is_required=False,
            automation_condition=dg.AutomationCondition.eager(),
            freshness_policy=dg.FreshnessPolicy.time_window(timedelta(hours=2)),
        ),
        "customers": dg.AssetOut(group_name="sales"),
    },
    deps=[dg.AssetDep("raw/events", partition_mapping=dg.TimeWindowPartitionMapping(-1))],
    partitions_def=DAYS,
    can_subset=True,
    check_specs=[
        dg.AssetCheckSpec(
            "nonneg",
            asset="orders",
            description="No negative totals",
            blocking=True,
            additional_deps=["raw/events"],
        )
    ],
    retry_policy=dg.RetryPolicy(max_retries=2, delay=1.5),
    backfill_policy=dg.BackfillPolicy.multi_run(5),
    op_tags={"team": "data"},
    pool="warehouse",
)
def load(warehouse: Warehouse):
    return [1], [2]


@dg.asset
def standalone() -> int:
    return 1


@dg.asset_check(asset="standalone", description="Is one", additional_deps=["raw/events"])
def standalone_is_one(standalone: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=standalone == 1)


sales = dg.define_asset_job(
    "sales",
    "group:sales",
    config={"ops": {"load": {"config": {"n": 1}}}},
    description="The sales assets",
    tags={"owner": "data"},
    run_tags={"priority": "high"},
    metadata={"dashboard": dg.MetadataValue.url("https://example.com/d")},
    partitions_def=DAYS,
)
plain = dg.define_asset_job("plain", [standalone])

nightly = dg.ScheduleDefinition(
    name="nightly",
    cron_schedule=["0 2 * * *", "30 14 * * 5"],
    job=plain,
    run_config={"ops": {}},
    tags={"kind": "batch"},
    run_tags={"via": "schedule"},
    metadata={"doc": "runs at night"},
    execution_timezone="Europe/Berlin",
    description="Every night",
    default_status=DefaultScheduleStatus.RUNNING,
    should_execute=lambda context: True,
)
hourly = dg.ScheduleDefinition(name="hourly", cron_schedule="0 * * * *", job_name="plain")


@dg.sensor(
    job=plain,
    minimum_interval_seconds=45,
    description="Watches the bucket",
    default_status=DefaultSensorStatus.RUNNING,
    tags={"source": "s3"},
    metadata={"bucket": "s3://in"},
)
def bucket(context):
    return None


@dg.sensor(target=[standalone])
def targets_assets(context):
    return None


@dg.asset_sensor(
    asset_key="standalone",
    job=plain,
    name="standalone_updated",
    description="Follows standalone",
    tags={"a": "b"},
    metadata={"n": 1},
)
def standalone_updated(context, asset_event):
    return None


@dg.run_status_sensor(
    run_status=RunStatus.FAILURE,
    monitored_jobs=[sales, "plain"],
    request_job=plain,
    description="Reacts to failures",
    tags={"c": "d"},
    metadata={"m": 2.5},
)
def on_failure(context):
    return None


DEFS = dg.Definitions(
    metadata={"team": "data"},
    assets=[raw, load, standalone],
    asset_checks=[standalone_is_one],
    jobs=[sales, plain],
    schedules=[nightly, hourly],
    sensors=[bucket, targets_assets, standalone_updated, on_failure],
    resources={"warehouse": Warehouse(), "lake": dg.InMemoryIOManager()},
)


@cache
def _snapshot() -> definitions_pb2.DefinitionsSnapshot:
    return build_snapshot(DEFS, resources=DEFS.resources).message()


def _path(key) -> tuple[str, ...]:
    return tuple(key.path)


def _nodes() -> dict[tuple[str, ...], definitions_pb2.AssetNode]:
    return {_path(n.key): n for n in _snapshot().assets}


def _graph():
    return DEFS.get_asset_graph()


def _optional(message, name):
    return getattr(message, name) if message.HasField(name) else None


# ---- assets ---------------------------------------------------------------------------

_FROM_ASSETS_DEFINITION = "from the AssetsDefinition that computes the asset"
_FROM_SPEC = "from the asset's AssetSpec"


def _spec_samples():
    graph = _graph()
    return [(graph.specs[key], node) for key, node in _nodes_by_asset_key().items()]


def _nodes_by_asset_key():
    graph = _graph()
    return {key: _nodes()[_path(key)] for key in graph.specs}


ASSET_SPEC = Conversion(
    dg.AssetSpec,
    definitions_pb2.AssetNode,
    _spec_samples,
    {
        "key": Sent("key", lambda m: _path(m.key), lambda s: _path(s.key)),
        "deps": Sent(
            "deps",
            lambda m: [(_path(d.asset_key), _optional(d, "partition_mapping")) for d in m.deps],
            lambda s: [
                (
                    _path(d.asset_key),
                    None
                    if d.partition_mapping is None
                    else partition_mapping_message(d.partition_mapping),
                )
                for d in s.deps
            ],
        ),
        "description": Sent("description", lambda m: m.description or None),
        "metadata": Sent(
            "metadata",
            lambda m: metadata_from_entries(m.metadata),
            lambda s: dict(normalize_metadata(s.metadata)),
        ),
        "skippable": Sent("skippable", lambda m: m.skippable),
        "group_name": Sent(
            "group_name", lambda m: m.group_name, lambda s: s.group_name or "default"
        ),
        "code_version": Sent("code_version", lambda m: m.code_version or None),
        "automation_condition": Sent(
            "automation_condition",
            lambda m: _optional(m, "automation_condition"),
            lambda s: (
                s.automation_condition and automation_condition_message(s.automation_condition)
            ),
        ),
        "freshness_policy": Sent(
            "freshness_policy",
            lambda m: _optional(m, "freshness_policy"),
            lambda s: s.freshness_policy and freshness_policy_message(s.freshness_policy),
        ),
        "owners": Sent("owners", lambda m: tuple(m.owners)),
        "tags": Sent("tags", lambda m: dict(m.tags), lambda s: dict(s.tags)),
        "kinds": Sent("kinds", lambda m: frozenset(m.kinds)),
        "partitions_def": Sent(
            "partitions_def",
            lambda m: _optional(m, "partitions_def"),
            lambda s: s.partitions_def and partitions_def_message(s.partitions_def),
        ),
    },
    wire_only={
        **dict.fromkeys(
            (
                "is_executable",
                "node_name",
                "can_subset",
                "check_specs",
                "backfill_policy",
                "retry_policy",
                "pool",
                "io_manager_key",
                "required_resource_keys",
            ),
            _FROM_ASSETS_DEFINITION,
        ),
        "job_names": "the jobs of the Definitions that select the asset",
    },
)


def _assets_def_samples():
    by_node: dict[str, list] = {}
    for node in _snapshot().assets:
        by_node.setdefault(node.node_name, []).append(node)
    return [(ad, tuple(by_node[ad.node_name])) for ad in DEFS.assets]


def _per_node(read):
    return lambda nodes: sorted(read(n) for n in nodes)


def _per_asset(sdk):
    return lambda ad: sorted(sdk(ad) for _ in ad.specs)


def _messages(read):
    # Messages do not sort: compare them as bytes.
    return lambda nodes: [m and m.SerializeToString() for m in map(read, nodes)]


ASSETS_DEFINITION = Conversion(
    dg.AssetsDefinition,
    definitions_pb2.AssetNode,
    _assets_def_samples,
    {
        "node_name": Sent(
            "node_name", _per_node(lambda n: n.node_name), _per_asset(lambda ad: ad.node_name)
        ),
        "specs": Sent(
            "key",
            _per_node(lambda n: _path(n.key)),
            lambda ad: sorted(_path(s.key) for s in ad.specs),
        ),
        "fn": Sent(
            "is_executable",
            _per_node(lambda n: n.is_executable),
            _per_asset(lambda ad: ad.fn is not None),
        ),
        "params": Sent(
            "required_resource_keys",
            _per_node(lambda n: tuple(n.required_resource_keys)),
            _per_asset(lambda ad: tuple(sorted(ad.required_resource_keys))),
        ),
        "io_manager_keys": Sent(
            "io_manager_key",
            _per_node(lambda n: (_path(n.key), n.io_manager_key)),
            lambda ad: sorted((_path(k), ad.io_manager_key_for(k)) for k in ad.keys),
        ),
        "check_specs": Sent(
            "check_specs",
            lambda nodes: sorted(
                (c.name, c.node_name)
                for n in nodes
                for c in n.check_specs
                if c.node_name == n.node_name
            ),
            lambda ad: sorted((c.name, ad.node_name) for c in ad.check_specs),
        ),
        "can_subset": Sent(
            "can_subset", _per_node(lambda n: n.can_subset), _per_asset(lambda ad: ad.can_subset)
        ),
        "retry_policy": Sent(
            "retry_policy",
            _messages(lambda n: _optional(n, "retry_policy")),
            lambda ad: [
                ad.retry_policy and retry_policy_message(ad.retry_policy).SerializeToString()
                for _ in ad.specs
            ],
        ),
        "backfill_policy": Sent(
            "backfill_policy",
            _messages(lambda n: _optional(n, "backfill_policy")),
            lambda ad: [
                ad.backfill_policy
                and backfill_policy_message(ad.backfill_policy).SerializeToString()
                for _ in ad.specs
            ],
        ),
        "pool": Sent("pool", _per_node(lambda n: n.pool or None), _per_asset(lambda ad: ad.pool)),
    },
    not_sent={
        "input_keys": "the same edges as the specs' deps (AssetNode.deps)",
        "input_metadata": "read by the I/O manager inside the run worker only",
        "output_names": "step output names, used inside the run worker only",
        "required_outputs": "sent per asset as AssetNode.skippable, from its spec",
        "op_tags": "weir.v1 has no field for step tags yet",
        "specs_by_key": "an index of `specs`",
        "resource_defs": "joined into the location's resources, sent as ResourceSnapshot",
    },
    wire_only={
        **dict.fromkeys(
            (
                "deps",
                "group_name",
                "description",
                "metadata",
                "tags",
                "owners",
                "kinds",
                "code_version",
                "skippable",
                "partitions_def",
                "automation_condition",
                "freshness_policy",
            ),
            _FROM_SPEC,
        ),
        "job_names": "the jobs of the Definitions that select the asset",
    },
    empty=tuple,
)


def _dep_samples():
    samples = []
    for spec, node in _spec_samples():
        edges = {_path(e.asset_key): e for e in node.deps}
        samples += [(dep, edges[_path(dep.asset_key)]) for dep in spec.deps]
    return samples


ASSET_DEP = Conversion(
    dg.AssetDep,
    definitions_pb2.AssetDep,
    _dep_samples,
    {
        "asset_key": Sent("asset_key", lambda m: _path(m.asset_key), lambda d: _path(d.asset_key)),
        "partition_mapping": Sent(
            "partition_mapping",
            lambda m: _optional(m, "partition_mapping"),
            lambda d: d.partition_mapping and partition_mapping_message(d.partition_mapping),
        ),
    },
)


def _check_samples():
    specs = [s for ad in DEFS.assets for s in ad.check_specs] + [standalone_is_one.spec]
    on_wire = {(_path(c.asset_key), c.name): c for n in _snapshot().assets for c in n.check_specs}
    return [(s, on_wire[(_path(s.asset_key), s.name)]) for s in specs]


ASSET_CHECK_SPEC = Conversion(
    dg.AssetCheckSpec,
    definitions_pb2.AssetCheckSpec,
    _check_samples,
    {
        "name": Sent("name", lambda m: m.name),
        "asset_key": Sent("asset_key", lambda m: _path(m.asset_key), lambda s: _path(s.asset_key)),
        "description": Sent("description", lambda m: m.description or None),
        "blocking": Sent("blocking", lambda m: m.blocking),
        "additional_deps": Sent(
            "additional_deps",
            lambda m: [_path(k) for k in m.additional_deps],
            lambda s: [_path(k) for k in s.additional_deps],
        ),
    },
    wire_only={
        "node_name": "the step that evaluates the check: the asset's, or the check function's",
        "automation_condition": "the SDK's checks carry no automation condition yet",
    },
)


# ---- jobs, schedules, sensors ---------------------------------------------------------


def _by_name(messages):
    return {m.name: m for m in messages}


JOB = Conversion(
    dg.JobDefinition,
    definitions_pb2.JobSnapshot,
    lambda: [(j, _by_name(_snapshot().jobs)[j.name]) for j in (sales, plain)],
    {
        "name": Sent("name", lambda m: m.name),
        "selection": Sent(
            "selection",
            lambda m: m.selection,
            lambda j: j.selection if isinstance(j.selection, str) else "",
        ),
        "config": Sent(
            "run_config",
            lambda m: struct_to_dict(m.run_config) if m.HasField("run_config") else None,
        ),
        "description": Sent("description", lambda m: m.description or None),
        "tags": Sent("tags", lambda m: dict(m.tags), lambda j: dict(j.tags)),
        "run_tags()": Sent("run_tags", lambda m: dict(m.run_tags), lambda j: j.run_tags),
        "metadata": Sent(
            "metadata",
            lambda m: metadata_from_entries(m.metadata),
            lambda j: dict(normalize_metadata(j.metadata)),
        ),
        "partitions_def": Sent(
            "partitions_def",
            lambda m: _optional(m, "partitions_def"),
            lambda j: j.partitions_def and partitions_def_message(j.partitions_def),
        ),
    },
    not_sent={
        "executor_def": "how the code location runs the job's steps; the control plane "
        "never needs it",
        "op_retry_policy": "the run worker retries the job's steps itself and reports each "
        "retry as an event",
    },
    wire_only={
        "asset_keys": "the selection resolved against the location's asset graph",
        "asset_check_keys": "the checks of the resolved assets",
    },
)

SCHEDULE = Conversion(
    dg.ScheduleDefinition,
    definitions_pb2.ScheduleSnapshot,
    lambda: [(s, _by_name(_snapshot().schedules)[s.name]) for s in (nightly, hourly)],
    {
        "name": Sent("name", lambda m: m.name),
        "cron_schedules": Sent(
            ("cron_schedule", "cron_schedules"),
            lambda m: list(m.cron_schedules) or [m.cron_schedule],
        ),
        "execution_timezone": Sent("timezone", lambda m: m.timezone),
        "job_name()": Sent("job_name", lambda m: m.job_name, lambda s: s.job_name),
        "default_status": Sent(
            "default_status",
            lambda m: definitions_pb2.DefaultStatus.Name(m.default_status),
            lambda s: f"DEFAULT_STATUS_{s.default_status.name}",
        ),
        "description": Sent("description", lambda m: m.description or None),
        "tags": Sent("tags", lambda m: dict(m.tags), lambda s: dict(s.tags)),
        "metadata": Sent(
            "metadata",
            lambda m: metadata_from_entries(m.metadata),
            lambda s: dict(normalize_metadata(s.metadata)),
        ),
    },
    not_sent={
        "run_config": "applied by the code location when it evaluates a tick (EvaluateSchedule)",
        "should_execute": "user code, called by the code location when it evaluates a tick",
        "execution_fn": "user code, called by the code location when it evaluates a tick",
    },
)

_SENSOR_SENT = {
    "name": Sent("name", lambda m: m.name),
    "type()": Sent(
        "sensor_type",
        lambda m: definitions_pb2.SensorType.Name(m.sensor_type),
        lambda s: {
            dg.SensorDefinition: "SENSOR_TYPE_STANDARD",
            AssetSensorDefinition: "SENSOR_TYPE_ASSET",
            RunStatusSensorDefinition: "SENSOR_TYPE_RUN_STATUS",
        }[type(s)],
    ),
    "job_names()": Sent("job_names", lambda m: list(m.job_names), lambda s: s.job_names),
    "minimum_interval_seconds": Sent(
        "minimum_interval", lambda m: duration_seconds(m.minimum_interval)
    ),
    "default_status": Sent(
        "default_status",
        lambda m: definitions_pb2.DefaultStatus.Name(m.default_status),
        lambda s: f"DEFAULT_STATUS_{s.default_status.name}",
    ),
    "description": Sent("description", lambda m: m.description or None),
    "tags": Sent("tags", lambda m: dict(m.tags), lambda s: dict(s.tags)),
    "metadata": Sent(
        "metadata",
        lambda m: metadata_from_entries(m.metadata),
        lambda s: dict(normalize_metadata(s.metadata)),
    ),
}
_SENSOR_NOT_SENT = {"evaluation_fn": "user code, called by the code location (EvaluateSensor)"}
_TARGETS = "the assets of an asset target, resolved by the snapshot (test_sensor_asset_targets)"


def _sensor_samples(*sensors):
    return lambda: [(s, _by_name(_snapshot().sensors)[s.name]) for s in sensors]


SENSORS = [
    Conversion(
        dg.SensorDefinition,
        definitions_pb2.SensorSnapshot,
        _sensor_samples(bucket, targets_assets),
        _SENSOR_SENT,
        _SENSOR_NOT_SENT,
        wire_only={
            "target_asset_keys": _TARGETS,
            "monitored_asset_keys": "asset sensors only",
            "run_status": "run-status sensors only",
            "monitored_job_names": "run-status sensors only",
        },
    ),
    Conversion(
        AssetSensorDefinition,
        definitions_pb2.SensorSnapshot,
        _sensor_samples(standalone_updated),
        {
            **_SENSOR_SENT,
            "asset_key": Sent(
                "monitored_asset_keys",
                lambda m: [_path(k) for k in m.monitored_asset_keys],
                lambda s: [_path(s.asset_key)],
            ),
        },
        _SENSOR_NOT_SENT,
        wire_only={
            "target_asset_keys": _TARGETS,
            "run_status": "run-status sensors only",
            "monitored_job_names": "run-status sensors only",
        },
    ),
    Conversion(
        RunStatusSensorDefinition,
        definitions_pb2.SensorSnapshot,
        _sensor_samples(on_failure),
        {
            **_SENSOR_SENT,
            "run_status": Sent(
                "run_status",
                lambda m: runs_pb2.RunStatus.Name(m.run_status),
                lambda s: f"RUN_STATUS_{s.run_status.name}",
            ),
            "monitored_job_names": Sent(
                "monitored_job_names", lambda m: frozenset(m.monitored_job_names)
            ),
        },
        _SENSOR_NOT_SENT,
        wire_only={
            "target_asset_keys": _TARGETS,
            "monitored_asset_keys": "asset sensors only",
        },
    ),
]

DEFINITIONS = Conversion(
    dg.Definitions,
    definitions_pb2.DefinitionsSnapshot,
    lambda: [(DEFS, _snapshot())],
    {
        "assets": Sent(
            "assets",
            lambda m: sorted(_path(n.key) for n in m.assets),
            lambda d: sorted(_path(k) for ad in d.assets for k in ad.keys),
        ),
        "asset_checks": Sent(
            "assets",
            lambda m: sorted(
                (_path(c.asset_key), c.name)
                for n in m.assets
                for c in n.check_specs
                if c.node_name != n.node_name
            ),
            lambda d: sorted((_path(c.asset_key), c.spec.name) for c in d.asset_checks),
        ),
        "jobs": Sent("jobs", lambda m: sorted(j.name for j in m.jobs), lambda d: sorted(d.jobs)),
        "schedules": Sent(
            "schedules",
            lambda m: sorted(x.name for x in m.schedules),
            lambda d: sorted(d.schedules),
        ),
        "sensors": Sent(
            "sensors", lambda m: sorted(x.name for x in m.sensors), lambda d: sorted(d.sensors)
        ),
        "resources": Sent(
            "resources", lambda m: sorted(r.key for r in m.resources), lambda d: sorted(d.resources)
        ),
    },
    not_sent={
        "metadata": "weir.v1's DefinitionsSnapshot has no field for location metadata yet",
        "executor": "how the code location runs steps; the control plane never needs it",
    },
    wire_only={"content_hash": "computed from the rest of the snapshot"},
)

CONVERSIONS = [
    DEFINITIONS,
    ASSET_SPEC,
    ASSETS_DEFINITION,
    ASSET_DEP,
    ASSET_CHECK_SPEC,
    JOB,
    SCHEDULE,
    *SENSORS,
]


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_sdk_field_is_sent_or_excused(conversion):
    check_sdk_fields_accounted(conversion)


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_wire_field_is_filled_or_excused(conversion):
    check_wire_fields_accounted(conversion)


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_sent_field_comes_back_equal(conversion):
    check_round_trip(conversion)


def test_sensor_asset_targets_are_the_assets_it_launches():
    sensors = _by_name(_snapshot().sensors)
    assert [_path(k) for k in sensors["targets_assets"].target_asset_keys] == [("standalone",)]
    assert list(sensors["bucket"].target_asset_keys) == []


def test_every_sdk_status_has_a_wire_value():
    assert set(_DEFAULT_SCHEDULE_STATUS) == set(DefaultScheduleStatus)
    assert set(_DEFAULT_SENSOR_STATUS) == set(DefaultSensorStatus)
    assert set(_RUN_STATUS) == set(RunStatus)
    assert {runs_pb2.RunStatus.Name(v) for v in _RUN_STATUS.values()} == {
        f"RUN_STATUS_{s.name}" for s in RunStatus
    }


def test_resources_are_sent_by_key_with_their_type():
    resources = {r.key: r for r in _snapshot().resources}
    assert resources["warehouse"].type_name.endswith("Warehouse")
    assert not resources["warehouse"].is_io_manager
    assert resources["lake"].type_name == "weir.InMemoryIOManager"
    assert resources["lake"].is_io_manager
