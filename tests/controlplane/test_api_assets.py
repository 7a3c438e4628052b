"""Asset RPCs over gRPC: listing and filters, state from storage, lineage, materializations,
selections."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    event,
    key,
    launch,
    materialized,
    md,
    rpc_error,
    snapshot,
)
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import common_pb2, events_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2


# --- assets ---------------------------------------------------------------------------


def test_list_assets_filters_by_group_kind_tag_owner_and_location(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()

    def keys(**filters: Any) -> list[str]:
        reply = stub.ListAssets(cp.ListAssetsRequest(**filters), metadata=md(etl))
        return ["/".join(a.key.path) for a in reply.assets]

    assert keys() == ["daily", "orders", "raw", "report", "revenue"]
    assert keys(group="sales") == ["orders", "revenue"]
    assert keys(kind="python") == ["orders", "report"]
    assert keys(tag="tier=gold") == ["revenue"]
    assert keys(tag="tier") == ["revenue"]
    assert keys(tag="tier=silver") == []
    assert keys(owner="team:finance") == ["revenue"]
    assert keys(group="sales", kind="python") == ["orders"]
    assert keys(code_location="etl", group="ingest") == ["raw"]
    error = rpc_error(
        lambda: stub.ListAssets(cp.ListAssetsRequest(code_location="nope"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_list_assets_pages_with_a_cursor(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        reply = stub.ListAssets(cp.ListAssetsRequest(limit=2, cursor=cursor), metadata=md(etl))
        seen += ["/".join(a.key.path) for a in reply.assets]
        pages += 1
        if not reply.next_cursor:
            break
        cursor = reply.next_cursor
    assert seen == ["daily", "orders", "raw", "report", "revenue"]
    assert pages == 3
    error = rpc_error(lambda: stub.ListAssets(cp.ListAssetsRequest(cursor="%%%"), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_assets_carry_their_latest_materialization_and_check_results(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(
            2,
            E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            step="orders",
            materialization=E.AssetMaterialization(
                asset_key=key("orders"),
                metadata=[
                    common_pb2.MetadataEntry(label="rows", value=common_pb2.MetadataValue(int=3))
                ],
            ),
        ),
        event(
            3,
            E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
            step="orders",
            check_evaluation=E.AssetCheckEvaluation(
                asset_key=key("orders"), check_name="not_empty", passed=True
            ),
        ),
    )
    stub = server.control_plane()
    found = stub.GetAsset(cp.GetAssetRequest(key=key("orders")), metadata=md(etl)).asset
    assert found.code_location == "etl"
    assert found.definition.group_name == "sales"
    assert found.latest_materialization.run_id == run.run_id
    assert found.latest_materialization.materialization.metadata[0].value.int == 3
    assert [c.spec.name for c in found.checks] == ["not_empty"]
    assert found.checks[0].latest_evaluation.evaluation.passed
    listed = stub.ListAssets(cp.ListAssetsRequest(group="sales"), metadata=md(etl)).assets
    assert listed[0].latest_materialization.run_id == run.run_id
    assert not listed[1].HasField("latest_materialization")


def test_get_asset_of_an_unknown_key_is_not_found_and_an_empty_key_is_invalid(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    error = rpc_error(lambda: stub.GetAsset(cp.GetAssetRequest(key=key("nope")), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "'nope'" in error.details()
    error = rpc_error(lambda: stub.GetAsset(cp.GetAssetRequest(), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_lineage_walks_up_and_down_to_the_depths_asked(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()

    def lineage(**fields: Any) -> tuple[list[str], list[tuple[str, str]]]:
        reply = stub.GetAssetLineage(cp.GetAssetLineageRequest(**fields), metadata=md(etl))
        edges = [("/".join(e.upstream.path), "/".join(e.downstream.path)) for e in reply.edges]
        return ["/".join(a.key.path) for a in reply.assets], edges

    assert lineage(key=key("revenue")) == (
        ["raw", "orders", "revenue", "report"],
        [("raw", "orders"), ("orders", "revenue"), ("revenue", "report")],
    )
    assert lineage(key=key("revenue"), upstream_depth=1, downstream_depth=0) == (
        ["orders", "revenue"],
        [("orders", "revenue")],
    )
    assert lineage(key=key("orders"), upstream_depth=0)[0] == ["orders", "revenue", "report"]
    error = rpc_error(
        lambda: stub.GetAssetLineage(cp.GetAssetLineageRequest(key=key("x")), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(lambda: stub.GetAssetLineage(cp.GetAssetLineageRequest(), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_lineage_in_the_health_view_has_keys_locations_health_and_the_same_edges(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    full = stub.GetAssetLineage(cp.GetAssetLineageRequest(key=key("revenue")), metadata=md(etl))
    lean = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("revenue"), view=cp.ASSET_VIEW_HEALTH), metadata=md(etl)
    )
    assert [a.key for a in lean.assets] == [a.key for a in full.assets]
    assert list(lean.edges) == list(full.edges)
    assert all(a.code_location and a.HasField("health") for a in lean.assets)
    assert not any(a.HasField("definition") for a in lean.assets)
    error = rpc_error(
        lambda: stub.GetAssetLineage(
            cp.GetAssetLineageRequest(key=key("revenue"), view=99),
            metadata=md(etl),  # type: ignore[arg-type]
        )
    )
    assert (
        error.code() == grpc.StatusCode.INVALID_ARGUMENT and "not an asset view" in error.details()
    )


def test_a_huge_lineage_comes_in_pages_each_under_4_mib(
    server: ApiServer, etl: DeploymentScope
) -> None:
    # 50,000 assets below one root, each with a 100-byte tag: ~12 MB in one reply, which a
    # gRPC client (4 MiB receive limit by default) could not read.
    note = {"note": "n" * 100}
    nodes = [
        asset("root"),
        *(asset(f"leaf{i:05d}", deps=["root"], tags=note) for i in range(49_999)),
    ]
    add_location(server.storage, etl, "huge", snapshot(*nodes))
    stub = server.control_plane()
    names: list[str] = []
    edges: list[tuple[str, str]] = []
    sizes: list[int] = []
    cursor = ""
    while True:
        reply = stub.GetAssetLineage(
            cp.GetAssetLineageRequest(key=key("root"), cursor=cursor), metadata=md(etl)
        )
        sizes.append(reply.ByteSize())
        names += ["/".join(a.key.path) for a in reply.assets]
        edges += [("/".join(e.upstream.path), "/".join(e.downstream.path)) for e in reply.edges]
        if not reply.next_cursor:
            break
        cursor = reply.next_cursor
    assert len(sizes) > 1 and max(sizes) < 4 * 1024 * 1024
    assert names == ["root", *(f"leaf{i:05d}" for i in range(49_999))]
    assert edges == [("root", f"leaf{i:05d}") for i in range(49_999)]


def test_lineage_pages_by_limit_and_refuses_a_bad_cursor(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    first = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("revenue"), limit=2), metadata=md(etl)
    )
    assert ["/".join(a.key.path) for a in first.assets] == ["raw", "orders"]
    assert first.next_cursor
    rest = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("revenue"), limit=2, cursor=first.next_cursor),
        metadata=md(etl),
    )
    assert ["/".join(a.key.path) for a in rest.assets] == ["revenue", "report"]
    # Edges travel with their downstream asset: every edge once over the pages.
    assert [("/".join(e.upstream.path), "/".join(e.downstream.path)) for e in rest.edges] == [
        ("orders", "revenue"),
        ("revenue", "report"),
    ]
    assert [("/".join(e.upstream.path), "/".join(e.downstream.path)) for e in first.edges] == [
        ("raw", "orders")
    ]
    assert not rest.next_cursor
    error = rpc_error(
        lambda: stub.GetAssetLineage(
            cp.GetAssetLineageRequest(key=key("revenue"), cursor="!!"), metadata=md(etl)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "cursor" in error.details()
    error = rpc_error(
        lambda: stub.GetAssetLineage(
            cp.GetAssetLineageRequest(key=key("revenue"), limit=-1), metadata=md(etl)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "limit" in error.details()


def test_lineage_follows_dependencies_across_code_locations(
    server: ApiServer, etl: DeploymentScope
) -> None:
    add_location(
        server.storage, etl, "bi", snapshot(asset("dashboard", deps=["revenue"], group="bi"))
    )
    stub = server.control_plane()
    reply = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("dashboard"), upstream_depth=2), metadata=md(etl)
    )
    assert [(a.key.path[0], a.code_location) for a in reply.assets] == [
        ("orders", "etl"),
        ("revenue", "etl"),
        ("dashboard", "bi"),
    ]
    error = rpc_error(lambda: launch(server, etl, "revenue", "dashboard"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bi, etl" in error.details()


def test_materializations_are_listed_newest_first_by_page(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run_ids = []
    for _ in range(3):
        run = launch(server, etl, "orders")
        server.report(
            etl,
            run.run_id,
            event(
                1, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")
            ),
        )
        run_ids.append(run.run_id)
    stub = server.control_plane()
    first = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), limit=2), metadata=md(etl)
    )
    rest = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), limit=2, cursor=first.next_cursor),
        metadata=md(etl),
    )
    assert [m.run_id for m in first.materializations] == run_ids[:0:-1]
    assert [m.run_id for m in rest.materializations] == run_ids[:1]
    assert rest.next_cursor == ""
    of_run = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), run_id=run_ids[1]), metadata=md(etl)
    )
    assert [m.run_id for m in of_run.materializations] == [run_ids[1]]


# --- selections -----------------------------------------------------------------------


def test_list_assets_by_selection(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()

    def keys(selection: str, **filters: Any) -> list[str]:
        reply = stub.ListAssets(
            cp.ListAssetsRequest(selection=selection, **filters), metadata=md(etl)
        )
        return ["/".join(a.key.path) for a in reply.assets]

    assert keys("orders+") == ["orders", "revenue"]
    # External assets (raw) are never selected, as in the SDK's selections.
    assert keys("*revenue") == ["orders", "revenue"]
    assert keys("group:sales or kind:python") == ["orders", "report", "revenue"]
    assert keys("*revenue", group="sales") == ["orders", "revenue"]


@pytest.mark.parametrize(
    ("selection", "needle"),
    [("ordres+", "'ordres'"), ("orders and", "Invalid asset selection")],
)
def test_a_bad_selection_is_an_invalid_argument_naming_the_problem(
    server: ApiServer, etl: DeploymentScope, selection: str, needle: str
) -> None:
    stub = server.control_plane()
    for call in (
        lambda: stub.ListAssets(cp.ListAssetsRequest(selection=selection), metadata=md(etl)),
        lambda: stub.LaunchRun(cp.LaunchRunRequest(selection=selection), metadata=md(etl)),
        lambda: stub.GetAssetLineage(
            cp.GetAssetLineageRequest(selection=selection), metadata=md(etl)
        ),
    ):
        error = rpc_error(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert needle in error.details()


def test_selections_follow_dependencies_across_code_locations(
    server: ApiServer, etl: DeploymentScope
) -> None:
    add_location(
        server.storage, etl, "bi", snapshot(asset("dashboard", deps=["revenue"], group="bi"))
    )
    stub = server.control_plane()
    reply = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(selection="+dashboard"), metadata=md(etl)
    )
    assert [a.key.path[0] for a in reply.assets] == ["revenue", "dashboard"]
    run = stub.LaunchRun(cp.LaunchRunRequest(selection="dashboard"), metadata=md(etl)).run
    assert run.code_location == "bi"
    error = rpc_error(
        lambda: stub.LaunchRun(cp.LaunchRunRequest(selection="+dashboard"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bi, etl" in error.details()
