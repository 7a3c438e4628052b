"""Partitions, partition mappings, automation, policies and metadata on the wire.

Each SDK class goes through its converter and every field it holds is read back from the
message; a field the SDK adds fails the census until it is sent or excused. See
wire_coverage.py.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest
import weir._partitions.mappings as mappings_module
from google.protobuf import struct_pb2
from weir import (
    AllPartitionMapping,
    AssetKey,
    AutomationCondition,
    BackfillPolicy,
    Backoff,
    DailyPartitionsDefinition,
    DimensionPartitionMapping,
    DynamicPartitionsDefinition,
    FreshnessPolicy,
    HourlyPartitionsDefinition,
    IdentityPartitionMapping,
    Jitter,
    LastPartitionMapping,
    MetadataValue,
    MonthlyPartitionsDefinition,
    MultiPartitionMapping,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    PartitionMapping,
    PartitionsDefinition,
    RetryPolicy,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
    StaticPartitionsDefinition,
    TableColumn,
    TableSchema,
    TimeWindowPartitionMapping,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from weir._automation.conditions import NODE_TYPES
from weir._automation.freshness import CronFreshnessPolicy, TimeWindowFreshnessPolicy
from weir._execution.events import (
    AssetCheckEvaluation,
    AssetMaterialization,
    EventType,
    WeirEvent,
)
from weir._metadata import MetadataValue as MetadataValueBase
from weir._metadata import wrap_metadata_value
from weir._results import AssetCheckSeverity
from weir_codeserver.run_events import EVENT_TYPES, SEVERITIES, EventTranslator
from weir_codeserver.wire_automation import (
    PARAM_SETTERS,
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
    duration_seconds,
    metadata_entries,
    metadata_from_entries,
    metadata_value_message,
    timestamp_to_datetime,
)
from weir_protos.v1 import (
    automation_pb2,
    common_pb2,
    definitions_pb2,
    events_pb2,
    partitions_pb2,
)
from wire_coverage import (
    Conversion,
    Sent,
    check_round_trip,
    check_sdk_fields_accounted,
    check_wire_fields_accounted,
    ids,
)

# ---- partitions definitions -----------------------------------------------------------


def _time_window_samples():
    defs = [
        TimeWindowPartitionsDefinition(
            start="2024-01-01",
            end="2024-06-01",
            fmt="%Y-%m-%d-%H",
            cron_schedule="30 5 * * 1",
            timezone="Europe/Paris",
            end_offset=2,
        ),
        TimeWindowPartitionsDefinition(
            start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * *"
        ),
    ]
    return [(d, partitions_def_message(d).time_window) for d in defs]


def _optional_time(message, name):
    return timestamp_to_datetime(getattr(message, name)) if message.HasField(name) else None


def _window_kind_samples(cls):
    def samples():
        d = cls(
            start_date="2024-01-01",
            end_date="2024-03-01",
            timezone="America/New_York",
            end_offset=1,
        )
        return [(d, partitions_def_message(d).time_window)]

    return samples


_TIME_WINDOW_SENT = {
    "start": Sent("start", lambda m: _optional_time(m, "start")),
    "end": Sent("end", lambda m: _optional_time(m, "end")),
    "fmt": Sent("fmt", lambda m: m.fmt),
    "cron_schedule": Sent("cron_schedule", lambda m: m.cron_schedule),
    "timezone": Sent("timezone", lambda m: m.timezone),
    "end_offset": Sent("end_offset", lambda m: m.end_offset),
}


def _time_window_conversion(cls, samples) -> Conversion:
    return Conversion(
        cls, partitions_pb2.TimeWindowPartitionsDefinition, samples, _TIME_WINDOW_SENT
    )


def _multi_samples():
    d = MultiPartitionsDefinition(
        {
            "region": StaticPartitionsDefinition(["eu", "us"]),
            "date": DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03"),
        }
    )
    return [(d, partitions_def_message(d).multi)]


PARTITIONS_CONVERSIONS = [
    Conversion(
        StaticPartitionsDefinition,
        partitions_pb2.StaticPartitionsDefinition,
        lambda: [
            (d, partitions_def_message(d).static)
            for d in [StaticPartitionsDefinition(["b", "a", "c"])]
        ],
        {
            "get_partition_keys()": Sent(
                "keys", lambda m: list(m.keys), lambda d: d.get_partition_keys()
            )
        },
    ),
    _time_window_conversion(TimeWindowPartitionsDefinition, _time_window_samples),
    _time_window_conversion(
        HourlyPartitionsDefinition, _window_kind_samples(HourlyPartitionsDefinition)
    ),
    _time_window_conversion(
        DailyPartitionsDefinition, _window_kind_samples(DailyPartitionsDefinition)
    ),
    _time_window_conversion(
        WeeklyPartitionsDefinition, _window_kind_samples(WeeklyPartitionsDefinition)
    ),
    _time_window_conversion(
        MonthlyPartitionsDefinition, _window_kind_samples(MonthlyPartitionsDefinition)
    ),
    Conversion(
        DynamicPartitionsDefinition,
        partitions_pb2.PartitionsDefinition,
        lambda: [
            (d, partitions_def_message(d))
            for d in [
                DynamicPartitionsDefinition(name="fruits"),
                DynamicPartitionsDefinition(partition_fn=lambda _now: ["x", "y"]),
            ]
        ],
        {
            "name": Sent("dynamic", lambda m: m.dynamic.name if m.HasField("dynamic") else None),
            "partition_fn": Sent(
                "static",
                lambda m: list(m.static.keys) if m.HasField("static") else None,
                lambda d: None if d.partition_fn is None else list(d.partition_fn(None)),
            ),
        },
        wire_only={
            "time_window": "another kind of definition",
            "multi": "another kind of definition",
        },
    ),
    Conversion(
        MultiPartitionsDefinition,
        partitions_pb2.MultiPartitionsDefinition,
        _multi_samples,
        {
            "partitions_defs()": Sent(
                "dimensions",
                lambda m: [(d.name, d.partitions_def) for d in m.dimensions],
                lambda d: [
                    (x.name, partitions_def_message(x.partitions_def)) for x in d.partitions_defs
                ],
            )
        },
    ),
]


# ---- partition mappings ---------------------------------------------------------------


def _mapping_samples(*mappings, case):
    return lambda: [(m, getattr(partition_mapping_message(m), case)) for m in mappings]


_DIMENSION = DimensionPartitionMapping("day", TimeWindowPartitionMapping(start_offset=-1))

MAPPING_CONVERSIONS = [
    Conversion(
        IdentityPartitionMapping,
        partitions_pb2.PartitionMapping,
        lambda: [(m, partition_mapping_message(m)) for m in [IdentityPartitionMapping()]],
        {"type()": Sent("identity", lambda m: m.WhichOneof("kind"), lambda _: "identity")},
        wire_only={
            f: "another mapping"
            for f in partitions_pb2.PartitionMapping.DESCRIPTOR.fields_by_name
            if f != "identity"
        },
    ),
    Conversion(
        AllPartitionMapping,
        partitions_pb2.PartitionMapping,
        lambda: [(m, partition_mapping_message(m)) for m in [AllPartitionMapping()]],
        {"type()": Sent("all", lambda m: m.WhichOneof("kind"), lambda _: "all")},
        wire_only={
            f: "another mapping"
            for f in partitions_pb2.PartitionMapping.DESCRIPTOR.fields_by_name
            if f != "all"
        },
    ),
    Conversion(
        LastPartitionMapping,
        partitions_pb2.PartitionMapping,
        lambda: [(m, partition_mapping_message(m)) for m in [LastPartitionMapping()]],
        {"type()": Sent("last", lambda m: m.WhichOneof("kind"), lambda _: "last")},
        wire_only={
            f: "another mapping"
            for f in partitions_pb2.PartitionMapping.DESCRIPTOR.fields_by_name
            if f != "last"
        },
    ),
    Conversion(
        TimeWindowPartitionMapping,
        partitions_pb2.TimeWindowPartitionMapping,
        _mapping_samples(
            TimeWindowPartitionMapping(
                start_offset=-2, end_offset=1, allow_nonexistent_upstream_partitions=True
            ),
            case="time_window",
        ),
        {
            "start_offset": Sent("start_offset", lambda m: m.start_offset),
            "end_offset": Sent("end_offset", lambda m: m.end_offset),
            "allow_nonexistent_upstream_partitions": Sent(
                "allow_nonexistent_upstream_partitions",
                lambda m: m.allow_nonexistent_upstream_partitions,
            ),
        },
    ),
    Conversion(
        StaticPartitionMapping,
        partitions_pb2.StaticPartitionMapping,
        _mapping_samples(
            StaticPartitionMapping({"eu-1": "eu", "eu-2": ["eu", "all"], "us-1": "us"}),
            case="static",
        ),
        {
            "downstream_partition_keys_by_upstream_partition_key": Sent(
                "downstream_keys_by_upstream_key",
                lambda m: {k: set(v.keys) for k, v in m.downstream_keys_by_upstream_key.items()},
                lambda s: {
                    k: set(v)
                    for k, v in s.downstream_partition_keys_by_upstream_partition_key.items()
                },
            )
        },
    ),
    Conversion(
        SpecificPartitionsPartitionMapping,
        partitions_pb2.SpecificPartitionsPartitionMapping,
        _mapping_samples(SpecificPartitionsPartitionMapping(["c", "a"]), case="specific"),
        {"partition_keys": Sent("partition_keys", lambda m: tuple(m.partition_keys))},
    ),
    Conversion(
        MultiToSingleDimensionPartitionMapping,
        partitions_pb2.MultiToSingleDimensionPartitionMapping,
        _mapping_samples(
            MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
            MultiToSingleDimensionPartitionMapping(),
            case="multi_to_single",
        ),
        {"partition_dimension_name": Sent("dimension_name", lambda m: m.dimension_name or None)},
    ),
    Conversion(
        MultiPartitionMapping,
        partitions_pb2.MultiPartitionMapping,
        _mapping_samples(
            MultiPartitionMapping(
                {"day": _DIMENSION, "abc": DimensionPartitionMapping("xy", AllPartitionMapping())}
            ),
            case="multi",
        ),
        {
            "downstream_mappings_by_upstream_dimension": Sent(
                "dimension_mappings",
                lambda m: {d.upstream_dimension_name: d for d in m.dimension_mappings},
                lambda s: {
                    up: partitions_pb2.DimensionPartitionMapping(
                        upstream_dimension_name=up,
                        downstream_dimension_name=d.dimension_name,
                        partition_mapping=partition_mapping_message(d.partition_mapping),
                    )
                    for up, d in s.downstream_mappings_by_upstream_dimension.items()
                },
            )
        },
    ),
    Conversion(
        DimensionPartitionMapping,
        partitions_pb2.DimensionPartitionMapping,
        lambda: [
            (
                _DIMENSION,
                partition_mapping_message(
                    MultiPartitionMapping({"up": _DIMENSION})
                ).multi.dimension_mappings[0],
            )
        ],
        {
            "dimension_name": Sent(
                "downstream_dimension_name", lambda m: m.downstream_dimension_name
            ),
            "partition_mapping": Sent(
                "partition_mapping",
                lambda m: m.partition_mapping,
                lambda d: partition_mapping_message(d.partition_mapping),
            ),
        },
        wire_only={"upstream_dimension_name": "the key of the MultiPartitionMapping's table"},
    ),
]


# ---- automation and policies ----------------------------------------------------------


def _condition_params(m):
    params = {}
    if m.cron_schedule:
        params["cron_schedule"] = m.cron_schedule
    if m.timezone:
        params["cron_timezone"] = m.timezone
    if m.HasField("lookback"):
        params["lookback_seconds"] = duration_seconds(m.lookback)
    if m.params.get("blocking_only") == "true":
        params["blocking_only"] = True
    return params


_CONDITIONS = [
    AutomationCondition.cron_tick_passed("0 6 * * 1#2", "Europe/Paris").with_label("second"),
    AutomationCondition.in_latest_time_window(timedelta(hours=36)),
    AutomationCondition.in_latest_time_window(),
    AutomationCondition.eager(),
    AutomationCondition.on_cron("0 * * * *", "Asia/Tokyo"),
    ~AutomationCondition.missing() | AutomationCondition.any_deps_updated(),
    AutomationCondition.all_deps_blocking_checks_passed(),
    AutomationCondition.any_checks_match(AutomationCondition.check_failed()),
    ~AutomationCondition.backfill_in_progress() & ~AutomationCondition.run_in_progress(),
]

AUTOMATION_CONVERSIONS = [
    Conversion(
        AutomationCondition,
        automation_pb2.AutomationConditionNode,
        lambda: [(c, automation_condition_message(c)) for c in _CONDITIONS],
        {
            "node_type": Sent("node_type", lambda m: m.node_type),
            "children": Sent(
                "children",
                lambda m: list(m.children),
                lambda c: [automation_condition_message(x) for x in c.children],
            ),
            "params": Sent(
                ("cron_schedule", "timezone", "lookback", "params"),
                _condition_params,
                # None and False are the parameters' defaults, which the wire leaves unset.
                lambda c: {k: v for k, v in c.params if v is not None and v is not False},
            ),
            "label": Sent("label", lambda m: m.label or None),
            "expression()": Sent(
                "description",
                lambda m: m.description or None,
                lambda c: c.expression if c.label is not None else None,
            ),
        },
        wire_only={
            "allow": "no SDK condition narrows the dependencies it considers yet",
            "ignore": "no SDK condition narrows the dependencies it considers yet",
        },
    ),
    Conversion(
        TimeWindowFreshnessPolicy,
        automation_pb2.TimeWindowFreshnessPolicy,
        lambda: [
            (p, freshness_policy_message(p).time_window)
            for p in [
                FreshnessPolicy.time_window(timedelta(hours=24), timedelta(hours=12)),
                FreshnessPolicy.time_window(timedelta(minutes=90)),
            ]
        ],
        {
            "fail_window": Sent(
                "fail_window", lambda m: timedelta(seconds=duration_seconds(m.fail_window))
            ),
            "warn_window": Sent(
                "warn_window",
                lambda m: (
                    timedelta(seconds=duration_seconds(m.warn_window))
                    if m.HasField("warn_window")
                    else None
                ),
            ),
        },
    ),
    Conversion(
        CronFreshnessPolicy,
        automation_pb2.CronFreshnessPolicy,
        lambda: [
            (p, freshness_policy_message(p).cron)
            for p in [FreshnessPolicy.cron("0 9 * * *", timedelta(hours=2), "Europe/Paris")]
        ],
        {
            "deadline_cron": Sent("deadline_cron", lambda m: m.deadline_cron),
            "lower_bound_delta": Sent(
                "lower_bound_delta",
                lambda m: timedelta(seconds=duration_seconds(m.lower_bound_delta)),
            ),
            "timezone": Sent("timezone", lambda m: m.timezone),
        },
    ),
    Conversion(
        BackfillPolicy,
        definitions_pb2.BackfillPolicy,
        lambda: [
            (p, backfill_policy_message(p))
            for p in [BackfillPolicy.single_run(), BackfillPolicy.multi_run(7)]
        ],
        {
            "max_partitions_per_run": Sent(
                ("single_run", "multi_run"),
                lambda m: {
                    "single_run": None,
                    "multi_run": m.multi_run.max_partitions_per_run,
                    None: "unset",
                }[m.WhichOneof("kind")],
            )
        },
    ),
    Conversion(
        RetryPolicy,
        definitions_pb2.RetryPolicy,
        lambda: [
            (p, retry_policy_message(p))
            for p in [
                RetryPolicy(max_retries=3, delay=1.5),
                RetryPolicy(),
                RetryPolicy(2, 0.5, Backoff.EXPONENTIAL, Jitter.PLUS_MINUS),
                RetryPolicy(2, 0.5, Backoff.LINEAR, Jitter.FULL),
            ]
        ],
        {
            "max_retries": Sent("max_retries", lambda m: m.max_retries),
            "delay": Sent(
                "delay", lambda m: duration_seconds(m.delay) if m.HasField("delay") else None
            ),
            "backoff": Sent(
                "backoff",
                lambda m: (
                    Backoff[definitions_pb2.RetryBackoff.Name(m.backoff)[14:]]
                    if m.backoff
                    else None
                ),
            ),
            "jitter": Sent(
                "jitter",
                lambda m: (
                    Jitter[definitions_pb2.RetryJitter.Name(m.jitter)[13:]] if m.jitter else None
                ),
            ),
        },
        wire_only={
            "backoff": "the SDK's retries wait a constant delay (UNSPECIFIED)",
            "jitter": "the SDK's retries add no jitter (UNSPECIFIED)",
        },
    ),
]

CONVERSIONS = PARTITIONS_CONVERSIONS + MAPPING_CONVERSIONS + AUTOMATION_CONVERSIONS


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_sdk_field_is_sent_or_excused(conversion):
    check_sdk_fields_accounted(conversion)


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_wire_field_is_filled_or_excused(conversion):
    check_wire_fields_accounted(conversion)


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=ids(CONVERSIONS))
def test_every_sent_field_comes_back_equal(conversion):
    check_round_trip(conversion)


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    for sub in base.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return {c for c in found if not inspect.isabstract(c) and not c.__name__.startswith("_")}


def test_every_sdk_partitions_class_has_a_converter_and_a_conversion_account():
    import weir._partitions.time_window_kinds  # noqa: F401  (register the subclasses)

    classes = {c for c in _subclasses(PartitionsDefinition) if c.__module__.startswith("weir.")}
    accounted = {c.sdk_type for c in PARTITIONS_CONVERSIONS}
    assert classes == accounted
    fallback = partitions_def_message.dispatch(object)
    assert all(partitions_def_message.dispatch(c) is not fallback for c in classes)


def test_every_sdk_partition_mapping_has_a_converter_and_a_conversion_account():
    public = {getattr(mappings_module, n) for n in mappings_module.__all__}
    classes = {c for c in _subclasses(PartitionMapping) if c in public}
    assert classes == {c.sdk_type for c in MAPPING_CONVERSIONS} - {DimensionPartitionMapping}
    fallback = partition_mapping_message.dispatch(object)
    assert all(partition_mapping_message.dispatch(c) is not fallback for c in classes)


def test_every_condition_parameter_has_a_wire_field():
    params = {name for _, names in NODE_TYPES.values() for name in names}
    assert params == set(PARAM_SETTERS)


def test_user_defined_mappings_and_partitions_are_refused_by_name():
    class ByHand(PartitionMapping):
        def _rule(self):
            from weir_partitions.mappings import AllMapping

            return AllMapping()

    with pytest.raises(UnsupportedOnWireError, match="ByHand"):
        partition_mapping_message(ByHand())

    class Custom(StaticPartitionsDefinition):
        pass

    # A subclass of a built-in converts as the built-in it extends.
    assert partitions_def_message(Custom(["a"])).static.keys == ["a"]


def test_time_window_keys_on_the_wire_are_the_sdks():
    defn = DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04", timezone="Europe/Paris")
    window = partitions_def_message(defn).time_window
    assert timestamp_to_datetime(window.start) == datetime(2023, 12, 31, 23, tzinfo=UTC)
    assert (window.fmt, window.cron_schedule, window.timezone) == (
        "%Y-%m-%d",
        "0 0 * * *",
        "Europe/Paris",
    )


# ---- metadata -------------------------------------------------------------------------

_METADATA = {
    "text": MetadataValue.text("hello"),
    "int": MetadataValue.int(-(2**40)),
    "float": MetadataValue.float(2.5),
    "bool": MetadataValue.bool(True),
    "json": MetadataValue.json({"rows": [1, 2], "ok": None}),
    "url": MetadataValue.url("https://example.com/a"),
    "path": MetadataValue.path("/data/orders.parquet"),
    "md": MetadataValue.md("# Title"),
    "table_schema": MetadataValue.table_schema(
        TableSchema([TableColumn("id", "int64", "the key"), TableColumn("name")])
    ),
    "asset": MetadataValue.asset(AssetKey(["raw", "orders"])),
    "null": MetadataValue.null(),
}


def _sdk_metadata_kinds() -> set[str]:
    return {c.kind for c in _subclasses(MetadataValueBase) if c.__module__.startswith("weir.")}


def test_every_metadata_kind_round_trips():
    kinds = _sdk_metadata_kinds()
    assert kinds == set(_METADATA), "a new metadata kind needs a sample here and a converter"
    entries = metadata_entries(_METADATA)
    assert [e.label for e in entries] == list(_METADATA)
    assert {e.label: e.value.WhichOneof("value") for e in entries} == {k: k for k in _METADATA}
    assert metadata_from_entries(entries) == _METADATA


def test_metadata_kinds_and_wire_cases_match():
    cases = {f.name for f in common_pb2.MetadataValue.DESCRIPTOR.oneofs_by_name["value"].fields}
    kinds = _sdk_metadata_kinds()
    # The wire's timestamp case has no SDK kind yet: nothing the SDK holds is dropped.
    assert cases - kinds == {"timestamp"}
    assert kinds - cases == set()


def test_metadata_value_classes_hold_one_value_and_table_parts_are_all_sent():
    import dataclasses

    assert {f.name for f in dataclasses.fields(MetadataValueBase)} == {"value"}
    assert {f.name for f in dataclasses.fields(TableSchema)} == {"columns"}
    assert {f.name for f in dataclasses.fields(TableColumn)} == {"name", "type", "description"}
    assert set(common_pb2.TableColumn.DESCRIPTOR.fields_by_name) == {"name", "type", "description"}


def test_plain_values_are_wrapped_then_sent_and_huge_ints_become_text():
    entries = metadata_entries({"n": 3, "big": 2**70, "none": None})
    values = {e.label: e.value for e in entries}
    assert values["n"].int == 3
    assert values["big"].text == str(2**70)
    assert values["none"].WhichOneof("value") == "null"
    assert values["none"].null == struct_pb2.NULL_VALUE
    assert metadata_value_message(wrap_metadata_value("x", 1.0)).float == 1.0


def test_an_unknown_metadata_class_is_refused_by_name():
    class Secret(MetadataValueBase):
        kind = "secret"

    with pytest.raises(UnsupportedOnWireError, match="Secret"):
        metadata_value_message(Secret("x"))


# ---- run events -----------------------------------------------------------------------


def _translated(data, event_type):
    event = WeirEvent(event_type, "run-1", step_key="step", event_specific_data=data)
    return EventTranslator("run-1").translate(event)[-1]


_MATERIALIZATIONS = [
    AssetMaterialization(
        AssetKey(["raw", "orders"]),
        partition="2024-01-01",
        metadata={"rows": MetadataValue.int(3)},
        description="Loaded",
    ),
    AssetMaterialization(AssetKey(["plain"])),
]
_EVALUATIONS = [
    AssetCheckEvaluation(
        AssetKey(["orders"]),
        "nonneg",
        passed=False,
        severity=AssetCheckSeverity.WARN,
        metadata={"bad": MetadataValue.int(2)},
        description="Two negative",
        blocking=True,
        partition="eu",
    ),
    AssetCheckEvaluation(AssetKey(["orders"]), "fresh", passed=True),
]
_EVENT_CONVERSIONS = [
    Conversion(
        AssetMaterialization,
        events_pb2.AssetMaterialization,
        lambda: [
            (m, _translated(m, EventType.ASSET_MATERIALIZATION).materialization)
            for m in _MATERIALIZATIONS
        ],
        {
            "asset_key": Sent(
                "asset_key", lambda m: tuple(m.asset_key.path), lambda d: d.asset_key.path
            ),
            "partition": Sent("partition", lambda m: m.partition or None),
            "metadata": Sent(
                "metadata", lambda m: metadata_from_entries(m.metadata), lambda d: dict(d.metadata)
            ),
            "description": Sent("description", lambda m: m.description or None),
        },
        wire_only={"data_version": "the SDK's materializations carry no data version yet"},
    ),
    Conversion(
        AssetCheckEvaluation,
        events_pb2.AssetCheckEvaluation,
        lambda: [
            (e, _translated(e, EventType.ASSET_CHECK_EVALUATION).check_evaluation)
            for e in _EVALUATIONS
        ],
        {
            "asset_key": Sent(
                "asset_key", lambda m: tuple(m.asset_key.path), lambda d: d.asset_key.path
            ),
            "check_name": Sent("check_name", lambda m: m.check_name),
            "passed": Sent("passed", lambda m: m.passed),
            "severity": Sent(
                "severity",
                lambda m: events_pb2.AssetCheckSeverity.Name(m.severity),
                lambda d: f"ASSET_CHECK_SEVERITY_{d.severity.name}",
            ),
            "metadata": Sent(
                "metadata", lambda m: metadata_from_entries(m.metadata), lambda d: dict(d.metadata)
            ),
            "description": Sent("description", lambda m: m.description or None),
            "blocking": Sent("blocking", lambda m: m.blocking),
            "partition": Sent("partition", lambda m: m.partition or None),
        },
    ),
]


@pytest.mark.parametrize("conversion", _EVENT_CONVERSIONS, ids=ids(_EVENT_CONVERSIONS))
def test_run_event_payloads_round_trip_field_by_field(conversion):
    check_sdk_fields_accounted(conversion)
    check_wire_fields_accounted(conversion)
    check_round_trip(conversion)


def test_every_sdk_event_type_and_severity_has_a_wire_value():
    assert set(EVENT_TYPES) == set(EventType)
    assert len(set(EVENT_TYPES.values())) == len(EventType)
    assert set(SEVERITIES) == set(AssetCheckSeverity)
    names = {
        events_pb2.RunEventType.Name(v) for k, v in EVENT_TYPES.items() if k.name != "RUN_START"
    }
    assert names == {f"RUN_EVENT_TYPE_{t.name}" for t in EventType if t.name != "RUN_START"}
    assert EVENT_TYPES[EventType.RUN_START] == events_pb2.RUN_EVENT_TYPE_RUN_STARTED


def test_a_run_events_time_is_carried_to_the_nanosecond_the_float_holds():
    from google.protobuf.timestamp_pb2 import Timestamp
    from weir_codeserver.run_events import run_event
    from weir_codeserver.wire_values import timestamp_message
    from weir_protos.v1 import events_pb2

    start = events_pb2.RUN_EVENT_TYPE_STEP_START
    event = run_event("run-1", start, "Started a", "a", 1_700_000_000.25)
    assert event.timestamp == Timestamp(seconds=1_700_000_000, nanos=250_000_000)
    # Before 1970 the whole seconds round down and the nanos stay positive.
    assert run_event("run-1", start, "x", "a", -1.5).timestamp == Timestamp(
        seconds=-2, nanos=500_000_000
    )
    assert timestamp_message(1_700_000_000.25) == event.timestamp
