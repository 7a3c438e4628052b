"""The wire contract (protos/weir/v1) and its generated Python code (weir_protos.v1)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import grpc_tools
import pytest
import weir_protos.v1
from google.protobuf import descriptor_pb2, json_format
from grpc_tools import protoc
from weir_protos.v1 import (
    automation_pb2,
    code_location_pb2,
    common_pb2,
    control_plane_pb2,
    definitions_pb2,
    events_pb2,
    partitions_pb2,
    reporting_pb2,
    runs_pb2,
)

PROTOS_DIR = Path(__file__).resolve().parents[1] / "protos"
PROTO_FILES = sorted((PROTOS_DIR / "weir" / "v1").glob("*.proto"))


def key(*path: str) -> common_pb2.AssetKey:
    return common_pb2.AssetKey(path=list(path))


def metadata_of_every_kind() -> list[common_pb2.MetadataEntry]:
    def entry(label: str, **value: object) -> common_pb2.MetadataEntry:
        return common_pb2.MetadataEntry(label=label, value=common_pb2.MetadataValue(**value))

    json_value = json_format.ParseDict(
        {"json": {"rows": [1, 2], "ok": True}}, common_pb2.MetadataValue()
    )
    schema = common_pb2.TableSchema(
        columns=[common_pb2.TableColumn(name="id", type="int64", description="primary key")]
    )
    return [
        entry("text", text="hello"),
        entry("int", int=2**40),
        entry("float", float=0.5),
        entry("bool", bool=True),
        common_pb2.MetadataEntry(label="json", value=json_value),
        entry("url", url="https://example.com/orders"),
        entry("path", path="/data/orders.parquet"),
        entry("md", md="# Orders"),
        entry("table_schema", table_schema=schema),
        entry("asset", asset=key("raw", "orders")),
        entry("null", null=0),
    ]


def sample_snapshot() -> definitions_pb2.DefinitionsSnapshot:
    daily = partitions_pb2.PartitionsDefinition(
        time_window=partitions_pb2.TimeWindowPartitionsDefinition(
            fmt="%Y-%m-%d", cron_schedule="0 0 * * *", timezone="Europe/Paris"
        )
    )
    daily.time_window.start.FromJsonString("2024-01-01T00:00:00Z")
    eager = automation_pb2.AutomationConditionNode(
        node_type="and",
        label="eager()",
        children=[
            automation_pb2.AutomationConditionNode(node_type="in_latest_time_window"),
            automation_pb2.AutomationConditionNode(
                node_type="not",
                children=[automation_pb2.AutomationConditionNode(node_type="in_progress")],
            ),
            automation_pb2.AutomationConditionNode(
                node_type="cron_tick_passed", cron_schedule="0 6 * * *", timezone="UTC"
            ),
        ],
    )
    freshness = automation_pb2.FreshnessPolicy(
        time_window=automation_pb2.TimeWindowFreshnessPolicy()
    )
    freshness.time_window.fail_window.FromTimedelta(timedelta(hours=2))
    orders = definitions_pb2.AssetNode(
        key=key("warehouse", "orders"),
        deps=[
            definitions_pb2.AssetDep(
                asset_key=key("raw", "orders"),
                partition_mapping=partitions_pb2.PartitionMapping(
                    time_window=partitions_pb2.TimeWindowPartitionMapping(
                        start_offset=-1, end_offset=-1
                    )
                ),
            )
        ],
        group_name="sales",
        description="Cleaned orders.",
        metadata=metadata_of_every_kind(),
        tags={"tier": "gold"},
        owners=["team:data", "ada@example.com"],
        kinds=["python", "duckdb"],
        code_version="3",
        is_executable=True,
        node_name="orders",
        partitions_def=daily,
        check_specs=[
            definitions_pb2.AssetCheckSpec(
                name="not_empty", asset_key=key("warehouse", "orders"), blocking=True
            )
        ],
        automation_condition=eager,
        freshness_policy=freshness,
        backfill_policy=definitions_pb2.BackfillPolicy(
            single_run=definitions_pb2.SingleRunBackfillPolicy()
        ),
        retry_policy=definitions_pb2.RetryPolicy(
            max_retries=2, backoff=definitions_pb2.RETRY_BACKOFF_EXPONENTIAL
        ),
        pool="warehouse",
        io_manager_key="io_manager",
    )
    raw = definitions_pb2.AssetNode(key=key("raw", "orders"), partitions_def=daily)
    return definitions_pb2.DefinitionsSnapshot(
        content_hash="sha256:abc",
        assets=[raw, orders],
        jobs=[definitions_pb2.JobSnapshot(name="daily_orders", asset_keys=[orders.key])],
        schedules=[
            definitions_pb2.ScheduleSnapshot(
                name="every_morning",
                cron_schedule="0 6 * * *",
                job_name="daily_orders",
                default_status=definitions_pb2.DEFAULT_STATUS_RUNNING,
            )
        ],
        sensors=[
            definitions_pb2.SensorSnapshot(
                name="on_failure",
                sensor_type=definitions_pb2.SENSOR_TYPE_RUN_STATUS,
                run_status=runs_pb2.RUN_STATUS_FAILURE,
            )
        ],
        resources=[definitions_pb2.ResourceSnapshot(key="io_manager", is_io_manager=True)],
    )


def sample_event() -> events_pb2.RunEvent:
    event = events_pb2.RunEvent(
        run_id="0b6d3c1e-0000-4000-8000-000000000001",
        sequence=7,
        event_type=events_pb2.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
        step_key="orders",
        message="Materialized warehouse/orders",
        materialization=events_pb2.AssetMaterialization(
            asset_key=key("warehouse", "orders"),
            partition="2024-01-02",
            metadata=metadata_of_every_kind(),
        ),
    )
    event.timestamp.FromJsonString("2024-01-03T00:00:01.5Z")
    return event


def test_every_proto_file_has_an_importable_module_under_weir_protos_v1():
    generated = {m.name for m in pkgutil.iter_modules(weir_protos.v1.__path__)}
    assert {f"{p.stem}_pb2" for p in PROTO_FILES} <= generated
    for name in sorted(generated):
        module = importlib.import_module(f"weir_protos.v1.{name}")
        assert module.__name__ == f"weir_protos.v1.{name}"
    assert common_pb2.AssetKey.__module__ == "weir_protos.v1.common_pb2"
    # Descriptors keep the contract's own names, as other languages see them.
    assert common_pb2.DESCRIPTOR.name == "weir/v1/common.proto"
    assert common_pb2.AssetKey.DESCRIPTOR.full_name == "weir.v1.AssetKey"


def test_generated_code_imports_only_weir_protos_never_the_sdk_package():
    for path in (PROTOS_DIR / "weir_protos" / "v1").glob("*.py*"):
        text = path.read_text()
        assert "from weir.v1" not in text, path.name
        assert "import weir.v1" not in text, path.name


def test_definitions_snapshot_round_trips_through_bytes_and_json():
    snapshot = sample_snapshot()

    from_bytes = definitions_pb2.DefinitionsSnapshot.FromString(snapshot.SerializeToString())
    assert from_bytes == snapshot

    as_json = json_format.MessageToDict(snapshot)
    assert json_format.ParseDict(as_json, definitions_pb2.DefinitionsSnapshot()) == snapshot
    orders = as_json["assets"][1]
    assert as_json["contentHash"] == "sha256:abc"
    assert orders["key"] == {"path": ["warehouse", "orders"]}
    assert orders["deps"][0]["partitionMapping"] == {
        "timeWindow": {"startOffset": -1, "endOffset": -1}
    }
    assert orders["partitionsDef"]["timeWindow"]["start"] == "2024-01-01T00:00:00Z"
    assert orders["automationCondition"]["children"][2]["cronSchedule"] == "0 6 * * *"
    assert orders["freshnessPolicy"] == {"timeWindow": {"failWindow": "7200s"}}
    assert orders["checkSpecs"][0]["blocking"] is True
    assert as_json["schedules"][0]["defaultStatus"] == "DEFAULT_STATUS_RUNNING"
    assert as_json["sensors"][0]["runStatus"] == "RUN_STATUS_FAILURE"


def test_metadata_values_are_typed_and_json_is_structure_not_a_string():
    by_label = {
        e["label"]: e["value"]
        for e in json_format.MessageToDict(sample_snapshot().assets[1])["metadata"]
    }
    assert by_label["json"] == {"json": {"rows": [1, 2], "ok": True}}
    assert by_label["int"] == {"int": str(2**40)}  # 64-bit integers are strings in JSON
    assert by_label["asset"] == {"asset": {"path": ["raw", "orders"]}}
    assert by_label["null"] == {"null": None}
    assert by_label["table_schema"] == {
        "tableSchema": {"columns": [{"name": "id", "type": "int64", "description": "primary key"}]}
    }
    kinds = [e.value.WhichOneof("value") for e in metadata_of_every_kind()]
    assert kinds == [e.label for e in metadata_of_every_kind()]


def test_run_event_round_trips_through_bytes_and_json():
    event = sample_event()

    assert events_pb2.RunEvent.FromString(event.SerializeToString()) == event

    as_json = json_format.MessageToJson(event)
    assert json_format.Parse(as_json, events_pb2.RunEvent()) == event
    as_dict = json_format.MessageToDict(event)
    assert as_dict["runId"] == event.run_id
    assert as_dict["sequence"] == "7"
    assert as_dict["eventType"] == "RUN_EVENT_TYPE_ASSET_MATERIALIZATION"
    assert as_dict["stepKey"] == "orders"
    assert as_dict["timestamp"] == "2024-01-03T00:00:01.500Z"
    assert as_dict["materialization"]["assetKey"] == {"path": ["warehouse", "orders"]}
    assert as_dict["materialization"]["partition"] == "2024-01-02"


def test_streamed_definition_parts_merge_into_the_whole_snapshot():
    snapshot = sample_snapshot()
    first = definitions_pb2.DefinitionsSnapshot(
        content_hash=snapshot.content_hash, assets=snapshot.assets[:1]
    )
    second = definitions_pb2.DefinitionsSnapshot(
        assets=snapshot.assets[1:],
        jobs=snapshot.jobs,
        schedules=snapshot.schedules,
        sensors=snapshot.sensors,
        resources=snapshot.resources,
    )
    parts = [
        code_location_pb2.StreamDefinitionsResponse(part=first),
        code_location_pb2.StreamDefinitionsResponse(part=second),
    ]

    merged = definitions_pb2.DefinitionsSnapshot()
    for part in parts:
        merged.MergeFrom(part.part)

    assert merged == snapshot


def test_control_plane_json_uses_plain_lower_camel_case_names():
    reply = control_plane_pb2.ListCodeLocationsResponse(
        code_locations=[
            control_plane_pb2.CodeLocation(
                name="quickstart",
                status=control_plane_pb2.CODE_LOCATION_STATUS_ERROR,
                error=common_pb2.Error(message="SyntaxError: invalid syntax"),
            )
        ]
    )
    assert json_format.MessageToDict(reply) == {
        "codeLocations": [
            {
                "name": "quickstart",
                "status": "CODE_LOCATION_STATUS_ERROR",
                "error": {"message": "SyntaxError: invalid syntax"},
            }
        ]
    }
    request = json_format.Parse(
        '{"selection": "orders+", "partitionKey": "2024-01-02", "tags": {"team": "data"},'
        ' "runConfig": {"ops": {"orders": {"config": {"limit": 10}}}}}',
        control_plane_pb2.LaunchRunRequest(),
    )
    assert request.partition_key == "2024-01-02"
    assert request.run_config["ops"]["orders"]["config"]["limit"] == 10
    get_asset = json_format.Parse(
        '{"key": {"path": ["raw", "orders"]}}', control_plane_pb2.GetAssetRequest()
    )
    assert list(get_asset.key.path) == ["raw", "orders"]
    asset = control_plane_pb2.GetAssetResponse(
        asset=control_plane_pb2.Asset(
            key=key("raw", "orders"),
            latest_materialization=events_pb2.MaterializationRecord(run_id="r1", event_id=5),
        )
    )
    assert json_format.MessageToDict(asset)["asset"]["latestMaterialization"] == {
        "eventId": "5",
        "runId": "r1",
    }


def _methods(module: ModuleType, service: str) -> dict[str, tuple[bool, bool]]:
    methods = module.DESCRIPTOR.services_by_name[service].methods
    return {m.name: (m.client_streaming, m.server_streaming) for m in methods}


def test_services_offer_the_rpcs_the_contract_promises():
    unary, server_stream = (False, False), (False, True)
    code_location = _methods(code_location_pb2, "CodeLocationService")
    for name in (
        "GetLocationInfo",
        "GetDefinitions",
        "EvaluateSensor",
        "EvaluateSchedule",
        "ExecuteRun",
        "CancelRun",
        "GetRunStatus",
    ):
        assert code_location[name] == unary
    assert code_location["StreamDefinitions"] == server_stream

    assert _methods(reporting_pb2, "RunReportingService") == {
        "ReportEvents": unary,
        "Heartbeat": unary,
        "RegisterStepAttempts": unary,
        "GetStepAttempts": unary,
        "ClaimStepAttempt": unary,
        "ReportStepEvents": unary,
        "StepHeartbeat": unary,
    }

    control_plane = _methods(control_plane_pb2, "ControlPlaneService")
    for name in (
        "ListCodeLocations",
        "ReloadCodeLocation",
        "ListAssets",
        "GetAsset",
        "GetAssetLineage",
        "ListMaterializations",
        "LaunchRun",
        "GetRun",
        "ListRuns",
        "CancelRun",
        "GetRunEvents",
    ):
        assert control_plane[name] == unary
    assert control_plane["WatchRun"] == server_stream


def _compiled_with_comments(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    out = tmp_path / "contract.binpb"
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTOS_DIR}",
        f"-I{include}",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *(str(p.relative_to(PROTOS_DIR)) for p in PROTO_FILES),
    ]
    assert protoc.main(args) == 0
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _undocumented(file: descriptor_pb2.FileDescriptorProto) -> list[str]:
    """Messages, enums, services and RPCs of a compiled file with no leading comment."""
    documented = {
        tuple(loc.path) for loc in file.source_code_info.location if loc.leading_comments.strip()
    }
    # Paths into FileDescriptorProto: 4 message_type, 5 enum_type, 6 service; inside a
    # message 3 nested_type and 4 enum_type; inside a service 2 method.
    named: list[tuple[tuple[int, ...], str]] = []

    def add_message(path: tuple[int, ...], message: descriptor_pb2.DescriptorProto) -> None:
        named.append((path, message.name))
        for i, nested in enumerate(message.nested_type):
            if not nested.options.map_entry:
                add_message((*path, 3, i), nested)
        named.extend(((*path, 4, i), e.name) for i, e in enumerate(message.enum_type))

    for i, message in enumerate(file.message_type):
        add_message((4, i), message)
    named.extend(((5, i), e.name) for i, e in enumerate(file.enum_type))
    for i, service in enumerate(file.service):
        named.append(((6, i), service.name))
        named.extend(((6, i, 2, j), m.name) for j, m in enumerate(service.method))
    return [f"{file.name}: {name}" for path, name in named if path not in documented]


def test_every_message_enum_service_and_rpc_is_documented(tmp_path):
    files = _compiled_with_comments(tmp_path).file
    assert [problem for file in files for problem in _undocumented(file)] == []


def test_import_weir_loads_neither_protobuf_nor_grpc():
    probe = (
        "import sys, weir; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('google', 'grpc', 'weir_protos')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.fixture
def protos_copy(tmp_path: Path) -> Path:
    """A copy of protos/ (sources, generator, committed output) to break on purpose."""
    copy = tmp_path / "protos"
    copy.mkdir()
    shutil.copy(PROTOS_DIR / "generate.py", copy)
    shutil.copytree(PROTOS_DIR / "weir", copy / "weir")
    shutil.copytree(
        PROTOS_DIR / "weir_protos",
        copy / "weir_protos",
        ignore=shutil.ignore_patterns("__pycache__"),  # bytecode is no part of the contract
    )
    return copy


def _generate(protos: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(protos / "generate.py"), *args], capture_output=True, text=True
    )


def test_check_passes_on_committed_code_and_lists_every_drifted_file(protos_copy):
    assert _generate(protos_copy, "--check").returncode == 0

    out = protos_copy / "weir_protos" / "v1"
    (out / "common_pb2.py").write_text("# edited by hand\n")
    (out / "runs_pb2.pyi").unlink()
    (out / "old_pb2.py").write_text("")
    result = _generate(protos_copy, "--check")

    assert result.returncode == 1
    assert "modified: protos/weir_protos/v1/common_pb2.py" in result.stdout
    assert "missing:  protos/weir_protos/v1/runs_pb2.pyi" in result.stdout
    assert "stale:    protos/weir_protos/v1/old_pb2.py" in result.stdout
    assert "make protos" in result.stdout


def test_generate_restores_drifted_code_byte_for_byte(protos_copy):
    out = protos_copy / "weir_protos" / "v1"
    committed = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (out / "common_pb2.py").write_text("# edited by hand\n")
    (out / "old_pb2.py").write_text("")

    assert _generate(protos_copy).returncode == 0

    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == committed
    assert _generate(protos_copy, "--check").returncode == 0


def _readme_selection_examples() -> list[str]:
    """The selection strings in protos/README.md's table of every form."""
    text = (Path(__file__).parents[1] / "protos" / "README.md").read_text()
    table = text.split("### Selections", 1)[1].split("\n\n")[2]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return [example for row in rows for example in re.findall(r"`([^`]+)`", row.split(" | ")[0])]


def test_every_selection_example_in_the_readme_parses():
    import weir_selection

    examples = _readme_selection_examples()
    assert len(examples) >= 30 and "roots(group:sales)" in examples
    for example in examples:
        weir_selection.parse(example)  # raises SelectionSyntaxError if the README is wrong
