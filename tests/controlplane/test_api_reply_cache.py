"""Kept ListAssets and GetAssetLineage replies are never served after a change they do not
show: new recorded state, health, reloaded definitions, a narrower grant, later pages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    etl_snapshot,
    event,
    key,
    launch,
    md,
    serving,
    snapshot,
)
from google.protobuf import json_format
from weir_controlplane.api.reply_cache import Built, EncodedReply, ReplyCache, ReplyKey
from weir_controlplane.auth.roles import Role
from weir_controlplane.auth.secrets import hash_secret, new_secret
from weir_controlplane.storage import DeploymentScope, NewToken, Storage
from weir_controlplane.storage.freshness import FreshnessEvaluation, FreshnessState
from weir_protos.v1 import automation_pb2
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2 as E


def _list(http: httpx.Client, **body: Any) -> dict[str, Any]:
    reply = http.post("/weir.v1.ControlPlaneService/ListAssets", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _materialize(
    server: ApiServer, scope: DeploymentScope, name: str, *, passed: bool = True
) -> str:
    run = launch(server, scope, name)
    server.report(
        scope,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(
            2,
            E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            step=name,
            materialization=E.AssetMaterialization(asset_key=key(name)),
        ),
        event(
            3,
            E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
            step=name,
            check_evaluation=E.AssetCheckEvaluation(
                asset_key=key(name), check_name="not_empty", passed=passed
            ),
        ),
    )
    return str(run.run_id)


def _latest_run(listing: dict[str, Any], name: str) -> str | None:
    for found in listing["assets"]:
        if found["key"]["path"] == [name]:
            return found.get("latestMaterialization", {}).get("runId")
    raise AssertionError(f"{name} not listed")


def test_a_repeated_listing_is_the_same_json_the_api_gives_without_keeping(
    server: ApiServer, etl: DeploymentScope
) -> None:
    _materialize(server, etl, "orders")
    with server.http(etl.name) as http:
        first = http.post("/weir.v1.ControlPlaneService/ListAssets", json={}).content
        again = http.post("/weir.v1.ControlPlaneService/ListAssets", json={}).content
    reply = server.control_plane().ListAssets(cp.ListAssetsRequest(), metadata=md(etl))
    expected = json.dumps(
        json_format.MessageToDict(reply), separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert first == again == expected


def test_kept_lineage_pages_go_out_over_grpc_and_binary_connect_as_first_built(
    server: ApiServer, etl: DeploymentScope
) -> None:
    # Kept replies are sent as the bytes they were joined from, their cursor appended.
    first_run = _materialize(server, etl, "orders")
    stub = server.control_plane()

    def over_grpc(request: cp.GetAssetLineageRequest) -> cp.GetAssetLineageResponse:
        return stub.GetAssetLineage(request, metadata=md(etl))  # type: ignore[no-any-return]

    def over_connect(request: cp.GetAssetLineageRequest) -> cp.GetAssetLineageResponse:
        with server.http(etl.name) as http:
            reply = http.post(
                "/weir.v1.ControlPlaneService/GetAssetLineage",
                content=request.SerializeToString(),
                headers={"content-type": "application/proto"},
            )
        assert reply.status_code == 200, reply.text
        return cp.GetAssetLineageResponse.FromString(reply.content)

    def pages(call: Any) -> list[cp.GetAssetLineageResponse]:
        found, cursor = [], ""
        while True:
            found.append(call(cp.GetAssetLineageRequest(selection="*", limit=2, cursor=cursor)))
            cursor = found[-1].next_cursor
            if not cursor:
                return found

    first = pages(over_grpc)
    assert pages(over_grpc) == first == pages(over_connect)
    assert [["/".join(a.key.path) for a in page.assets] for page in first] == [
        ["daily", "orders"],  # "*" picks the assets the locations materialize, not raw
        ["revenue", "report"],
    ]
    edges = [
        ("/".join(e.upstream.path), "/".join(e.downstream.path)) for p in first for e in p.edges
    ]
    assert edges == [("orders", "revenue"), ("revenue", "report")]
    assert first[0].assets[1].latest_materialization.run_id == first_run
    second_run = _materialize(server, etl, "orders")
    for call in (over_grpc, over_connect):
        assert pages(call)[0].assets[1].latest_materialization.run_id == second_run


def test_a_new_materialization_is_listed_at_once(server: ApiServer, etl: DeploymentScope) -> None:
    first_run = _materialize(server, etl, "orders")
    with server.http(etl.name) as http:
        assert _latest_run(_list(http), "orders") == first_run
        assert _latest_run(_list(http), "orders") == first_run  # kept: the same answer
        second_run = _materialize(server, etl, "orders")
        assert _latest_run(_list(http), "orders") == second_run
    stub = server.control_plane()
    lineage = stub.GetAssetLineage(cp.GetAssetLineageRequest(selection="orders"), metadata=md(etl))
    assert lineage.assets[0].latest_materialization.run_id == second_run


def test_a_health_change_shows_in_the_health_view_at_once(
    server: ApiServer, etl: DeploymentScope
) -> None:
    _materialize(server, etl, "orders")
    with server.http(etl.name) as http:
        healthy = _list(http, view="ASSET_VIEW_HEALTH", group="sales")
        assert healthy["assets"][0]["health"]["status"] == "HEALTH_HEALTHY"
        assert _list(http, view="ASSET_VIEW_HEALTH", group="sales") == healthy
        _materialize(server, etl, "orders", passed=False)  # the ERROR check now fails
        degraded = _list(http, view="ASSET_VIEW_HEALTH", group="sales")
        assert degraded["assets"][0]["health"]["status"] == "HEALTH_DEGRADED"
        filtered = _list(http, health=["HEALTH_DEGRADED"])
        assert [a["key"]["path"] for a in filtered["assets"]] == [["orders"]]


def test_a_reloaded_location_with_changed_definitions_is_listed_anew(
    server: ApiServer, etl: DeploymentScope
) -> None:
    with server.http(etl.name) as http:
        before = {a["key"]["path"][0] for a in _list(http)["assets"]}
        assert "forecast" not in before
        changed = etl_snapshot()
        changed.assets.append(asset("forecast", deps=["revenue"], group="sales"))
        add_location(server.storage, etl, "etl", snapshot(*changed.assets, jobs=changed.jobs))
        after = {a["key"]["path"][0] for a in _list(http)["assets"]}
    assert after == before | {"forecast"}
    lineage = server.control_plane().GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("revenue")), metadata=md(etl)
    )
    assert "forecast" in {a.key.path[0] for a in lineage.assets}


def test_pages_after_a_cursor_show_changes_made_between_pages(
    server: ApiServer, etl: DeploymentScope
) -> None:
    with server.http(etl.name) as http:
        first = _list(http, limit=2)
        assert [a["key"]["path"][0] for a in first["assets"]] == ["daily", "orders"]
        run = _materialize(server, etl, "revenue")
        second = _list(http, limit=2, cursor=first["nextCursor"])
        assert [a["key"]["path"][0] for a in second["assets"]] == ["raw", "report"]
        third = _list(http, limit=2, cursor=second["nextCursor"])
        assert [a["key"]["path"][0] for a in third["assets"]] == ["revenue"]
        assert third["assets"][0]["latestMaterialization"]["runId"] == run
        assert "nextCursor" not in third
        assert _list(http, limit=2) == first | {"assets": first["assets"]}


@pytest.fixture(scope="module")
def auth_server(storage: Storage) -> Iterator[ApiServer]:
    with serving(storage, auth=True) as server:
        yield server


def _token(storage: Storage, scope: DeploymentScope, locations: list[str] | None) -> str:
    secret = new_secret()
    storage.access.create_token(
        NewToken(
            organization_id=storage.deployments.default_organization_id(),
            kind="user",
            name=f"viewer-{uuid.uuid4().hex[:6]}",
            role=Role.VIEWER.value,
            secret_hash=hash_secret(secret),
            created_at=datetime.now(UTC),
            deployment=scope,
            code_locations=locations,
        )
    )
    return secret


def test_a_grant_narrowed_to_one_location_never_gets_a_reply_built_for_all(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "finance", snapshot(asset("ledger")))
    add_location(storage, scope, "marketing", snapshot(asset("campaigns", deps=["ledger"])))
    everyone = _token(storage, scope, None)
    finance = _token(storage, scope, ["finance"])

    def client(secret: str) -> httpx.Client:
        return auth_server.http(scope.name).__class__(
            base_url=auth_server.http_url,
            headers={"x-weir-deployment": scope.name, "authorization": f"Bearer {secret}"},
            trust_env=False,
        )

    with client(everyone) as http:
        for _ in range(2):  # built, then kept
            assert {a["key"]["path"][0] for a in _list(http)["assets"]} == {"ledger", "campaigns"}
        lineage = http.post(
            "/weir.v1.ControlPlaneService/GetAssetLineage", json={"selection": "*"}
        ).json()
        assert len(lineage["assets"]) == 2
    with client(finance) as http:
        assert {a["key"]["path"][0] for a in _list(http)["assets"]} == {"ledger"}
        lineage = http.post(
            "/weir.v1.ControlPlaneService/GetAssetLineage", json={"selection": "*"}
        ).json()
        assert [a["key"]["path"][0] for a in lineage["assets"]] == ["ledger"]


def _built(reply: cp.ListAssetsResponse) -> Built[cp.ListAssetsResponse]:
    return Built(reply, reply.ByteSize())


def test_lineage_pages_over_http_json_are_the_pages_grpc_sends_unparsed(
    server: ApiServer, etl: DeploymentScope
) -> None:
    _materialize(server, etl, "orders")
    server.api.replies.clear()  # the server is shared: only this test's replies kept
    stub = server.control_plane()
    grpc_pages, json_pages, cursor = [], [], ""
    while True:
        request = cp.GetAssetLineageRequest(selection="*", limit=3, cursor=cursor)
        grpc_pages.append(stub.GetAssetLineage(request, metadata=md(etl)))
        with server.http(etl.name) as http:
            body = json_format.MessageToDict(request)
            reply = http.post("/weir.v1.ControlPlaneService/GetAssetLineage", json=body)
        assert reply.status_code == 200, reply.text
        json_pages.append(reply.content)
        cursor = grpc_pages[-1].next_cursor
        if not cursor:
            break
    assert len(grpc_pages) == 2 and grpc_pages[0].edges and grpc_pages[1].edges
    assert json_pages == [
        json.dumps(
            json_format.MessageToDict(page), separators=(",", ":"), ensure_ascii=False
        ).encode()
        for page in grpc_pages
    ]
    # The server sent the pages as the bytes they were joined from: it never parsed them.
    kept = [entry.reply for entry in server.api.replies._entries.values()]
    encoded = [reply for reply in kept if isinstance(reply, EncodedReply)]
    assert len(encoded) == len(kept) == 2
    assert all(reply._message is None for reply in encoded)
    assert [reply.message() for reply in encoded] == grpc_pages


def test_the_cache_keeps_at_most_its_budget_and_encodes_only_kept_replies() -> None:
    cache = ReplyCache(max_bytes=4_000)
    scope = DeploymentScope(deployment_id=1, name="d")  # type: ignore[call-arg]
    replies = []
    for index in range(10):
        request = cp.ListAssetsRequest(cursor=str(index))
        key_ = ReplyKey.of("ListAssets", scope, "hash", None, request, 0)
        reply = cp.ListAssetsResponse(next_cursor="x" * 200)
        replies.append(cache.get_or_build(key_, lambda reply=reply: _built(reply)))
    built: list[int] = []
    # The oldest were evicted: asking again builds afresh.
    oldest = ReplyKey.of("ListAssets", scope, "hash", None, cp.ListAssetsRequest(cursor="0"), 0)
    cache.get_or_build(oldest, lambda: built.append(1) or _built(cp.ListAssetsResponse()))
    assert built == [1]
    newest = ReplyKey.of("ListAssets", scope, "hash", None, cp.ListAssetsRequest(cursor="9"), 0)
    kept = cache.get_or_build(newest, lambda: built.append(2) or _built(cp.ListAssetsResponse()))
    assert kept is replies[9]
    encodings: list[int] = []

    def encode(message: Any) -> bytes:
        encodings.append(1)
        return b"{}"

    for _ in range(3):
        cache.encoded(replies[9], encode)
    cache.encoded(cp.ListAssetsResponse(), encode)  # never kept: encoded each time
    assert len(encodings) == 2
    # A builder's own JSON is used, once, instead of the encoder.
    joined = cp.ListAssetsResponse(next_cursor="j")
    made: list[int] = []
    key_ = ReplyKey.of("ListAssets", scope, "hash", None, cp.ListAssetsRequest(cursor="j"), 0)
    reply = cache.get_or_build(
        key_, lambda: Built(joined, joined.ByteSize(), lambda: made.append(1) or b'{"j":1}')
    )
    assert [cache.encoded(reply, encode) for _ in range(2)] == [b'{"j":1}'] * 2
    assert made == [1] and len(encodings) == 2


def test_every_health_write_moves_the_revision(server: ApiServer, etl: DeploymentScope) -> None:
    revisions = server.storage.asset_revisions
    assert revisions.current(etl) == 0
    _materialize(server, etl, "orders")
    after_ingest = revisions.current(etl)
    assert after_ingest > 0
    now = datetime.now(UTC)
    policy = automation_pb2.FreshnessPolicy()
    policy.time_window.fail_window.FromSeconds(3600)
    server.storage.freshness.sync_policies(etl, {"orders": policy.SerializeToString()}, now)
    assert revisions.current(etl) > after_ingest
    synced = revisions.current(etl)
    server.storage.freshness.sync_policies(etl, {"orders": policy.SerializeToString()}, now)
    assert revisions.current(etl) == synced  # nothing changed: kept replies still hold


def test_each_write_moves_exactly_the_assets_it_changed(
    server: ApiServer, etl: DeploymentScope
) -> None:
    revisions = server.storage.asset_revisions
    names = ["orders", "report", "revenue"]
    assert revisions.of_assets(etl, names) == {}
    _materialize(server, etl, "orders")
    assert revisions.of_assets(etl, names) == {"orders": 1}
    _materialize(server, etl, "report")
    _materialize(server, etl, "orders")
    assert revisions.of_assets(etl, names) == {"orders": 2, "report": 1}


def test_a_freshness_evaluation_in_the_same_state_shows_its_new_time_at_once(
    server: ApiServer, etl: DeploymentScope
) -> None:
    freshness = server.storage.freshness
    policy = automation_pb2.FreshnessPolicy()
    policy.time_window.fail_window.FromSeconds(3600)
    first = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    freshness.sync_policies(etl, {"orders": policy.SerializeToString()}, first)

    def evaluate(now: datetime) -> None:
        due = freshness.due(etl, now)
        assert [asset.asset_key for asset in due] == ["orders"]
        again = now + timedelta(minutes=1)  # due again, to be evaluated in the same state
        failing = FreshnessEvaluation("orders", FreshnessState.FAIL, "never materialized", again)
        freshness.store(etl, [failing], now, read=due)

    def evaluated_at(http: httpx.Client) -> str:
        listed = _list(http, view="ASSET_VIEW_HEALTH", group="sales")
        found = next(a for a in listed["assets"] if a["key"]["path"] == ["orders"])
        return str(found["health"]["freshnessState"]["evaluateTime"])

    with server.http(etl.name) as http:
        evaluate(first)
        assert evaluated_at(http) == "2026-12-07T12:00:00Z"
        evaluate(first + timedelta(minutes=5))  # FAIL again: only the times move
        assert evaluated_at(http) == "2026-12-07T12:05:00Z"
