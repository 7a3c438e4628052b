"""The definitions snapshot a real code server sends: its content, its hash, its parts."""

from __future__ import annotations

import hashlib
import shutil

from codeserver_harness import CODE
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from weir_protos.v1 import code_location_pb2, definitions_pb2, runs_pb2

EVERYTHING = CODE / "everything.py"


def _snapshot(server) -> definitions_pb2.DefinitionsSnapshot:
    return server.stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest()).definitions


def _raw_definitions(server) -> bytes:
    call = server.channel.unary_unary(
        "/weir.v1.CodeLocationService/GetDefinitions",
        request_serializer=code_location_pb2.GetDefinitionsRequest.SerializeToString,
        response_deserializer=lambda data: data,
    )
    return call(code_location_pb2.GetDefinitionsRequest())


def _key(node) -> str:
    return "/".join(node.key.path)


def test_snapshot_describes_assets_with_everything_the_control_plane_needs(shared_codeserver):
    snapshot = _snapshot(shared_codeserver(EVERYTHING))
    assets = {_key(node): node for node in snapshot.assets}

    order = [_key(node) for node in snapshot.assets]
    assert order.index("orders") < order.index("revenue")  # topological
    assert order.index("events") < order.index("rolling")

    orders = assets["orders"]
    assert orders.group_name == "sales"
    assert orders.description == "Every order."
    metadata = {entry.label: entry.value for entry in orders.metadata}
    assert metadata["rows"].int == 3
    assert metadata["docs"].url == "https://example.com"
    assert metadata["shape"].json.struct_value.fields["a"].list_value.values[0].number_value == 1
    assert dict(orders.tags) == {"tier": "gold"}
    assert list(orders.owners) == ["team:data", "ana@example.com"]
    assert list(orders.kinds) == ["python", "sql"]
    assert orders.code_version == "v2"
    assert orders.is_executable and orders.node_name == "orders"
    assert orders.automation_condition.label == "eager"
    assert orders.automation_condition.node_type == "and"
    assert orders.freshness_policy.time_window.fail_window.seconds == 7200
    assert list(orders.job_names) == ["sales"]

    events = assets["events"]
    window = events.partitions_def.time_window
    assert (window.cron_schedule, window.fmt, window.timezone) == ("0 0 * * *", "%Y-%m-%d", "UTC")
    assert window.start.ToJsonString() == "2024-01-01T00:00:00Z"
    assert events.backfill_policy.multi_run.max_partitions_per_run == 5
    assert events.retry_policy.max_retries == 2
    assert events.retry_policy.delay.ToMilliseconds() == 1500
    cron = events.automation_condition
    assert cron.label == "on_cron(0 6 * * *, Europe/Paris)"
    cron_nodes = [n for n in _walk(cron) if n.node_type == "cron_tick_passed"]
    assert {(n.cron_schedule, n.timezone) for n in cron_nodes} == {("0 6 * * *", "Europe/Paris")}

    (dep,) = assets["rolling"].deps
    assert dep.asset_key.path == ["events"]
    assert dep.partition_mapping.time_window.start_offset == -1

    revenue = assets["revenue"]
    assert [d.asset_key.path for d in revenue.deps] == [["orders"]]
    assert set(revenue.required_resource_keys) == {"io_manager", "warehouse"}
    (check,) = revenue.check_specs
    assert (check.name, check.blocking, check.description) == (
        "revenue_positive",
        True,
        "Revenue is positive",
    )
    assert check.node_name == "revenue__check__revenue_positive"

    assert assets["users"].node_name == assets["accounts"].node_name == "load_crm"
    assert assets["users"].can_subset
    landed = assets["raw/landed"]
    assert not landed.is_executable
    assert landed.description == "Written by another system"


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_snapshot_lists_jobs_schedules_sensors_and_resources(shared_codeserver):
    snapshot = _snapshot(shared_codeserver(EVERYTHING))

    (job,) = snapshot.jobs
    assert job.name == "sales"
    assert job.selection == "group:sales"
    assert [k.path for k in job.asset_keys] == [["orders"], ["revenue"]]
    assert [(c.asset_key.path, c.name) for c in job.asset_check_keys] == [
        (["revenue"], "revenue_positive")
    ]
    assert dict(job.run_tags) == {"team": "bi"}

    (schedule,) = snapshot.schedules
    assert (schedule.name, schedule.cron_schedule, schedule.timezone, schedule.job_name) == (
        "mornings",
        "0 6 * * *",
        "Europe/Paris",
        "sales",
    )
    assert schedule.default_status == definitions_pb2.DEFAULT_STATUS_STOPPED

    sensors = {s.name: s for s in snapshot.sensors}
    assert list(sensors) == ["new_files", "orders_changed", "page_someone"]  # by name
    assert sensors["new_files"].sensor_type == definitions_pb2.SENSOR_TYPE_STANDARD
    assert sensors["new_files"].minimum_interval.seconds == 60
    assert list(sensors["new_files"].job_names) == ["sales"]
    assert sensors["orders_changed"].sensor_type == definitions_pb2.SENSOR_TYPE_ASSET
    assert [k.path for k in sensors["orders_changed"].monitored_asset_keys] == [["orders"]]
    assert sensors["page_someone"].sensor_type == definitions_pb2.SENSOR_TYPE_RUN_STATUS
    assert sensors["page_someone"].run_status == runs_pb2.RUN_STATUS_FAILURE

    resources = {r.key: r for r in snapshot.resources}
    # Runs of a served location store values on disk unless the user binds an io_manager.
    assert resources["io_manager"].type_name == "weir.IOManagerDefinition"  # fs_io_manager
    assert resources["io_manager"].is_io_manager
    assert resources["warehouse"].type_name == "everything.Warehouse"
    assert not resources["warehouse"].is_io_manager


def test_the_same_code_gives_the_same_bytes_and_hash_in_every_process(
    shared_codeserver, start_codeserver
):
    first, second = shared_codeserver(EVERYTHING), start_codeserver(EVERYTHING)

    info = first.stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())
    other = second.stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())
    assert info.server_id != other.server_id
    assert info.content_hash == other.content_hash
    assert _raw_definitions(first) == _raw_definitions(second)

    snapshot = _snapshot(first)
    assert snapshot.content_hash == info.content_hash
    snapshot.content_hash = ""
    digest = hashlib.sha256(snapshot.SerializeToString(deterministic=True)).hexdigest()
    assert info.content_hash == f"sha256:{digest}"


def test_changed_definitions_change_the_hash(start_codeserver, tmp_path):
    copy = tmp_path / "everything.py"
    shutil.copy(EVERYTHING, copy)
    before = start_codeserver(copy).stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())
    copy.write_text(copy.read_text().replace('code_version="v2"', 'code_version="v3"'))

    after = start_codeserver(copy).stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())

    assert before.content_hash != after.content_hash


def test_streamed_parts_merge_into_the_whole_snapshot(shared_codeserver):
    server = shared_codeserver(EVERYTHING)
    parts = list(server.stub.StreamDefinitions(code_location_pb2.StreamDefinitionsRequest()))
    merged = definitions_pb2.DefinitionsSnapshot()
    for part in parts:
        merged.MergeFrom(part.part)
    assert parts[0].part.content_hash
    assert merged == _snapshot(server)


def test_location_info_health_and_reflection(shared_codeserver):
    server = shared_codeserver(EVERYTHING)

    info = server.stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())
    assert info.runtime.language == "python" and info.runtime.sdk == "weir"
    assert not info.HasField("load_error")
    health = health_pb2_grpc.HealthStub(server.channel)
    for service in ("", "weir.v1.CodeLocationService"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    (answer,) = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in answer.list_services_response.service}
    assert "weir.v1.CodeLocationService" in names
    assert "grpc.health.v1.Health" in names


def test_optional_asset_fields_are_sent_when_set_and_left_out_when_not():
    import weir as dg
    from weir_codeserver.snapshot import build_snapshot

    @dg.asset(
        description="orders, cleaned",
        metadata={"rows": 3},
        tags={"tier": "gold"},
        owners=["team:data"],
        kinds={"python", "csv"},
        code_version="v2",
        pool="warehouse",
        deps=["raw"],
    )
    def full():
        return 1

    @dg.asset
    def bare():
        return 1

    job = dg.define_asset_job("nightly", selection=["full"])
    defs = dg.Definitions(assets=[dg.AssetSpec("raw"), full, bare], jobs=[job])
    built = build_snapshot(defs, resources={})
    nodes = {node.key.path[0]: node for node in built.message().assets}
    node = nodes["full"]
    assert (node.description, node.code_version) == ("orders, cleaned", "v2")
    assert node.pool == "warehouse"
    assert dict(node.tags) == {"tier": "gold"} and list(node.owners) == ["team:data"]
    assert list(node.kinds) == ["csv", "python"] and list(node.job_names) == ["nightly"]
    assert [entry.label for entry in node.metadata] == ["rows"]
    assert [list(dep.asset_key.path) for dep in node.deps] == [["raw"]]
    empty = nodes["bare"]
    assert not (empty.description or empty.tags or empty.owners or empty.kinds or empty.pool)
    assert not (empty.metadata or empty.job_names or empty.deps or empty.code_version)
    assert list(empty.key.path) == ["bare"] and empty.group_name == "default"
