"""Auth and RBAC over both transports: the permission table, every role against every RPC,
tenant isolation, code-location grants, revocation, expiry and run tokens.

Runs on SQLite and PostgreSQL (the `storage` fixture's backends).
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    etl_snapshot,
    event,
    materialized,
    serving,
    snapshot,
)
from weir_controlplane.auth.permissions import PERMISSIONS
from weir_controlplane.auth.roles import Permission, Role
from weir_controlplane.auth.secrets import hash_secret, new_secret
from weir_controlplane.storage import AuditFilter, DeploymentScope, NewToken, Storage
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2, reporting_pb2, tenancy_pb2

SERVICES = {
    "weir.v1.ControlPlaneService": cp.DESCRIPTOR.services_by_name["ControlPlaneService"],
    "weir.v1.RunReportingService": reporting_pb2.DESCRIPTOR.services_by_name["RunReportingService"],
}
ALL_METHODS = [
    (f"/{service}/{method.name}", method)
    for service, descriptor in SERVICES.items()
    for method in descriptor.methods
]
DENIED = {"PERMISSION_DENIED", "UNAUTHENTICATED"}


@pytest.fixture(scope="module")
def auth_server(storage: Storage) -> Iterator[ApiServer]:
    with serving(storage, auth=True) as server:
        yield server


def token(
    storage: Storage,
    scope: DeploymentScope | None,
    role: Role,
    *,
    locations: list[str] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new token's secret, made straight in storage (the API path has tests of its own)."""
    secret = new_secret()
    storage.access.create_token(
        NewToken(
            organization_id=storage.deployments.default_organization_id(),
            kind="agent" if role is Role.AGENT else "user",
            name=f"{role.value}-{uuid.uuid4().hex[:6]}",
            role=role.value,
            secret_hash=hash_secret(secret),
            created_at=datetime.now(UTC),
            deployment=scope,
            expires_at=expires_at,
            code_locations=locations,
        )
    )
    return secret


def run_token(storage: Storage, scope: DeploymentScope, run_id: str) -> str:
    from weir_controlplane.auth.run_tokens import RunTokens

    return RunTokens(storage.access, storage.deployments).mint(scope, run_id)


def headers(secret: str | None, scope: DeploymentScope) -> dict[str, str]:
    found = {"x-weir-deployment": scope.name}
    if secret:
        found["authorization"] = f"Bearer {secret}"
    return found


def grpc_code(server: ApiServer, path: str, method: Any, request: Any, hdrs: dict[str, str]) -> str:
    """The status name a gRPC call ends with ("OK" if it succeeds)."""
    input_class = _message_class(method.input_type)
    output_class = _message_class(method.output_type)
    metadata = tuple(hdrs.items())
    try:
        if method.server_streaming:
            call = server.channel.unary_stream(
                path,
                request_serializer=input_class.SerializeToString,
                response_deserializer=output_class.FromString,
            )
            list(call(request, metadata=metadata, timeout=10))
        else:
            call = server.channel.unary_unary(
                path,
                request_serializer=input_class.SerializeToString,
                response_deserializer=output_class.FromString,
            )
            call(request, metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        return error.code().name
    return "OK"


def http_code(
    server: ApiServer, path: str, method: Any, body: dict[str, Any], hdrs: dict[str, str]
) -> str:
    """The Connect code an HTTP call ends with, upper case ("OK" if it succeeds)."""
    with httpx.Client(base_url=server.http_url, timeout=10, trust_env=False) as http:
        if method.server_streaming:
            payload = json.dumps(body).encode()
            reply = http.post(
                path,
                content=struct.pack(">BI", 0, len(payload)) + payload,
                headers={**hdrs, "content-type": "application/connect+json"},
            )
            if reply.status_code != 200:
                return reply.json()["code"].upper()
            error = _last_envelope(reply.content).get("error")
            return error["code"].upper() if error else "OK"
        reply = http.post(path, json=body, headers=hdrs)
        if reply.status_code == 200:
            return "OK"
        return reply.json()["code"].upper()


def empty_call(
    server: ApiServer, transport: str, path: str, method: Any, hdrs: dict[str, str]
) -> str:
    """The status an empty request to `path` ends with over `transport`."""
    if transport == "grpc":
        return grpc_code(server, path, method, _message_class(method.input_type)(), hdrs)
    return http_code(server, path, method, {}, hdrs)


def _last_envelope(body: bytes) -> dict[str, Any]:
    last: dict[str, Any] = {}
    while body:
        _, length = struct.unpack(">BI", body[:5])
        last = json.loads(body[5 : 5 + length])
        body = body[5 + length :]
    return last


def _message_class(descriptor: Any) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def expected_allowed(role: Role, path: str) -> bool:
    rule = PERMISSIONS[path]
    if rule.organization_wide and rule.permission is not Permission.SIGNED_IN:
        return role is Role.ORG_ADMIN
    return rule.permission in role.permissions


# --- the table ---------------------------------------------------------------------------


def test_every_rpc_of_every_service_has_exactly_one_permission_row() -> None:
    served = {path for path, _ in ALL_METHODS}
    assert served - PERMISSIONS.keys() == set(), "RPCs without a permission row"
    assert PERMISSIONS.keys() - served == set(), "rows for RPCs that do not exist"


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_every_role_against_every_rpc_is_allowed_or_denied_as_the_table_says(
    auth_server: ApiServer, scope: DeploymentScope, transport: str
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "etl", etl_snapshot())
    secrets = {
        role: token(storage, None if role is Role.ORG_ADMIN else scope, role)
        for role in Role
        if role is not Role.RUN
    }
    run = storage.runs.create_run(scope, _new_run())
    secrets[Role.RUN] = run_token(storage, scope, run.run_id)
    mismatches = []
    for role, secret in secrets.items():
        for path, method in ALL_METHODS:
            code = empty_call(auth_server, transport, path, method, headers(secret, scope))
            allowed = code not in DENIED
            if allowed != expected_allowed(role, path):
                mismatches.append(f"{role.value} {path}: {code}")
    assert mismatches == []


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_no_token_or_a_bad_one_is_unauthenticated_for_every_rpc(
    auth_server: ApiServer, scope: DeploymentScope, transport: str
) -> None:
    for secret in (None, "weir_not-a-real-token", "garbage"):
        for path, method in ALL_METHODS:
            code = empty_call(auth_server, transport, path, method, headers(secret, scope))
            assert code == "UNAUTHENTICATED", (secret, path, code)


def test_health_and_openapi_stay_open_without_a_token(auth_server: ApiServer) -> None:
    with httpx.Client(base_url=auth_server.http_url, trust_env=False) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/openapi.json").status_code == 200


# --- tenants ------------------------------------------------------------------------------


def _new_run(location: str = "etl") -> Any:
    from weir_controlplane.storage import NewRun

    return NewRun(code_location=location, selection="orders", asset_keys=("orders",))


def _client(server: ApiServer, secret: str, scope: DeploymentScope) -> httpx.Client:
    return httpx.Client(
        base_url=server.http_url + "/weir.v1.ControlPlaneService/",
        headers=headers(secret, scope),
        timeout=10,
        trust_env=False,
    )


def test_a_token_of_one_deployment_reaches_nothing_of_another(
    auth_server: ApiServer, storage: Storage
) -> None:
    mine = storage.deployments.ensure_deployment(f"a-{uuid.uuid4().hex[:8]}")
    theirs = storage.deployments.ensure_deployment(f"b-{uuid.uuid4().hex[:8]}")
    add_location(storage, mine, "etl", etl_snapshot())
    add_location(storage, theirs, "secret_etl", snapshot(asset("payroll")))
    their_run = storage.runs.create_run(theirs, _new_run("secret_etl"))
    admin_of_mine = token(storage, mine, Role.ADMIN)

    # The header cannot widen the token: every call in their deployment is 403.
    with _client(auth_server, admin_of_mine, theirs) as http:
        for method, body in [
            ("ListRuns", {}),
            ("GetRun", {"runId": their_run.run_id}),
            ("ListAssets", {}),
            ("LaunchRun", {"selection": "payroll"}),
            ("CancelRun", {"runId": their_run.run_id}),
            ("ListCodeLocations", {}),
            ("ListTokens", {}),
        ]:
            reply = http.post(method, json=body)
            assert reply.status_code == 403, (method, reply.text)
    # In its own deployment, their ids and names do not exist.
    with _client(auth_server, admin_of_mine, mine) as http:
        for method, body in [
            ("GetRun", {"runId": their_run.run_id}),
            ("CancelRun", {"runId": their_run.run_id}),
            ("GetRunEvents", {"runId": their_run.run_id, "cursor": "0"}),
            ("GetAsset", {"key": {"path": ["payroll"]}}),
            ("GetAssetLineage", {"key": {"path": ["payroll"]}}),
            ("ListMaterializations", {"key": {"path": ["payroll"]}}),
            ("ReloadCodeLocation", {"name": "secret_etl"}),
        ]:
            reply = http.post(method, json=body)
            assert reply.status_code == 404, (method, reply.text)
        runs = http.post("ListRuns", json={}).json().get("runs", [])
        assert their_run.run_id not in {run["runId"] for run in runs}
        assets = http.post("ListAssets", json={}).json()["assets"]
        assert "payroll" not in {a["key"]["path"][0] for a in assets}
        lineage = http.post("GetAssetLineage", json={"selection": "*"}).json()
        assert "payroll" not in {a["key"]["path"][0] for a in lineage.get("assets", [])}
        # Asking for a deployment that does not exist tells nothing either: 403, not 404.
        reply = http.post("ListRuns", json={}, headers={"x-weir-deployment": "no-such-one"})
        assert reply.status_code == 403
    # WatchRun of their run, over gRPC, from my deployment: NOT_FOUND.
    stream = auth_server.control_plane().WatchRun(
        cp.WatchRunRequest(run_id=their_run.run_id),
        metadata=tuple(headers(admin_of_mine, mine).items()),
    )
    with pytest.raises(grpc.RpcError) as caught:
        list(stream)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_grant_narrowed_to_a_code_location_covers_only_that_location(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "finance", snapshot(asset("ledger")))
    add_location(storage, scope, "marketing", snapshot(asset("campaigns")))
    marketing_run = storage.runs.create_run(scope, _new_run("marketing"))
    finance_run = storage.runs.create_run(scope, _new_run("finance"))
    launcher = token(storage, scope, Role.LAUNCHER, locations=["finance"])
    with _client(auth_server, launcher, scope) as http:
        assert http.post("LaunchRun", json={"selection": "ledger"}).status_code == 200
        denied = http.post("LaunchRun", json={"assetKeys": [{"path": ["campaigns"]}]})
        assert denied.status_code == 403 and "'marketing'" in denied.json()["message"]
        denied = http.post("LaunchRun", json={"selection": "*", "codeLocation": "marketing"})
        assert denied.status_code == 403, denied.text
        assert http.post("GetRun", json={"runId": marketing_run.run_id}).status_code == 403
        assert http.post("CancelRun", json={"runId": marketing_run.run_id}).status_code == 403
        assert http.post("GetRun", json={"runId": finance_run.run_id}).status_code == 200
        listed = {r["codeLocation"] for r in http.post("ListRuns", json={}).json()["runs"]}
        assert listed == {"finance"}
        assets = {a["key"]["path"][0] for a in http.post("ListAssets", json={}).json()["assets"]}
        assert assets == {"ledger"}
        locations = http.post("ListCodeLocations", json={}).json()["codeLocations"]
        assert [location["name"] for location in locations] == ["finance"]


def _with_instigators(snap: Any, prefix: str) -> Any:
    """`snap` plus a schedule and a sensor named after `prefix`, with its hash redone."""
    from weir_protos.v1 import definitions_pb2

    snap.schedules.add(name=f"{prefix}_daily", cron_schedule="0 6 * * *", job_name="j")
    snap.sensors.add(name=f"{prefix}_watch", sensor_type=definitions_pb2.SENSOR_TYPE_STANDARD)
    snap.content_hash = f"{snap.content_hash}-{prefix}"
    return snap


def test_a_narrowed_grant_sees_and_changes_only_its_locations_schedules_and_sensors(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "finance", _with_instigators(snapshot(asset("books")), "fin"))
    add_location(storage, scope, "marketing", _with_instigators(snapshot(asset("ads")), "mkt"))
    editor = token(storage, scope, Role.EDITOR, locations=["finance"])
    viewer = token(storage, scope, Role.VIEWER)
    with _client(auth_server, editor, scope) as http:
        schedules = http.post("ListSchedules", json={}).json()["schedules"]
        assert [(s["name"], s["status"]) for s in schedules] == [
            ("fin_daily", "SCHEDULE_STATUS_STOPPED")
        ]
        sensors = http.post("ListSensors", json={}).json()["sensors"]
        assert [s["name"] for s in sensors] == ["fin_watch"]
        started = http.post("StartSensor", json={"name": "fin_watch"})
        assert started.json()["sensor"]["status"] == "SENSOR_STATUS_RUNNING"
        denied = http.post("StopSchedule", json={"name": "mkt_daily"})
        assert denied.status_code == 403 and "'marketing'" in denied.json()["message"]
        assert http.post("ListTicks", json={"name": "mkt_watch"}).status_code == 403
        assert http.post("ListTicks", json={"name": "fin_watch"}).json() == {}
    with _client(auth_server, viewer, scope) as http:
        listed = {s["name"] for s in http.post("ListSensors", json={}).json()["sensors"]}
        assert listed == {"fin_watch", "mkt_watch"}
        refused = http.post("SetSensorCursor", json={"name": "fin_watch", "cursor": "1"})
        assert refused.status_code == 403
    audited = storage.audit.list(
        storage.deployments.default_organization_id(), AuditFilter(deployment=scope), limit=50
    )
    assert any(e.method.endswith("/StartSensor") and e.target == "fin_watch" for e in audited.items)


# --- revocation, expiry, escalation --------------------------------------------------------


def test_revocation_and_expiry_take_effect_on_the_next_request(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    admin = token(storage, scope, Role.ADMIN)
    with _client(auth_server, admin, scope) as http:
        created = http.post("CreateToken", json={"role": "ROLE_VIEWER", "name": "dashboard"}).json()
        viewer, viewer_id = created["secret"], created["token"]["tokenId"]
        short = http.post(
            "CreateToken", json={"role": "ROLE_VIEWER", "name": "brief", "expiresInSeconds": 1}
        ).json()["secret"]
        listed = http.post("ListTokens", json={}).json()["tokens"]
        assert viewer_id in {t["tokenId"] for t in listed}
        assert viewer not in json.dumps(listed)  # never the secret
    with _client(auth_server, viewer, scope) as http:
        assert http.post("ListRuns", json={}).status_code == 200  # cached from here on
    with _client(auth_server, short, scope) as http:
        assert http.post("ListRuns", json={}).status_code == 200
    with _client(auth_server, admin, scope) as http:
        assert http.post("RevokeToken", json={"tokenId": viewer_id}).status_code == 200
    with _client(auth_server, viewer, scope) as http:
        reply = http.post("ListRuns", json={})
        assert reply.status_code == 401 and "revoked" in reply.json()["message"]
    time.sleep(1.1)  # the expiry is a moment in time; nothing to wait on but the clock
    with _client(auth_server, short, scope) as http:
        reply = http.post("ListRuns", json={})
        assert reply.status_code == 401 and "expired" in reply.json()["message"]


def test_no_one_grants_more_than_they_hold(auth_server: ApiServer, scope: DeploymentScope) -> None:
    storage = auth_server.storage
    admin = token(storage, scope, Role.ADMIN)
    narrowed_admin = token(storage, scope, Role.ADMIN, locations=["finance"])
    with _client(auth_server, admin, scope) as http:
        reply = http.post("CreateToken", json={"role": "ROLE_ORG_ADMIN", "name": "boss"})
        assert reply.status_code == 403
    with _client(auth_server, narrowed_admin, scope) as http:
        reply = http.post("CreateToken", json={"role": "ROLE_VIEWER", "name": "all-seeing"})
        assert reply.status_code == 403 and "finance" in reply.text
        reply = http.post(
            "CreateToken",
            json={"role": "ROLE_VIEWER", "name": "finance-viewer", "codeLocations": ["finance"]},
        )
        assert reply.status_code == 200


def test_role_bindings_grant_and_take_away_at_once(
    auth_server: ApiServer, storage: Storage
) -> None:
    home = storage.deployments.ensure_deployment(f"h-{uuid.uuid4().hex[:8]}")
    other = storage.deployments.ensure_deployment(f"o-{uuid.uuid4().hex[:8]}")
    viewer = token(storage, home, Role.VIEWER)
    viewer_id = storage.access.list_tokens(storage.deployments.default_organization_id(), home)[
        0
    ].token_id
    other_admin = token(storage, other, Role.ADMIN)
    with _client(auth_server, viewer, other) as http:
        assert http.post("ListRuns", json={}).status_code == 403
    with _client(auth_server, other_admin, other) as http:
        binding = http.post(
            "CreateRoleBinding", json={"tokenId": viewer_id, "role": "ROLE_LAUNCHER"}
        ).json()["roleBinding"]
        again = http.post("CreateRoleBinding", json={"tokenId": viewer_id, "role": "ROLE_VIEWER"})
        assert again.status_code == 409
        bindings = http.post("ListRoleBindings", json={}).json()["roleBindings"]
        assert binding["bindingId"] in {b["bindingId"] for b in bindings}
    with _client(auth_server, viewer, other) as http:
        assert http.post("ListRuns", json={}).status_code == 200
    with _client(auth_server, other_admin, other) as http:
        reply = http.post("DeleteRoleBinding", json={"bindingId": binding["bindingId"]})
        assert reply.status_code == 200
    with _client(auth_server, viewer, other) as http:
        assert http.post("ListRuns", json={}).status_code == 403


# --- run tokens ------------------------------------------------------------------------------


def test_run_tokens_report_for_their_own_run_only_and_die_with_it(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "etl", etl_snapshot())
    run, other = (storage.runs.create_run(scope, _new_run()) for _ in range(2))
    secret = run_token(storage, scope, run.run_id)
    reporting = auth_server.reporting()
    metadata = tuple(headers(secret, scope).items())

    def report(run_id: str, *events: events_pb2.RunEvent, md: Any = metadata) -> Any:
        return reporting.ReportEvents(
            reporting_pb2.ReportEventsRequest(run_id=run_id, events=list(events)), metadata=md
        )

    started = event(1, events_pb2.RUN_EVENT_TYPE_RUN_STARTED)
    assert report(run.run_id, started).acknowledged_sequence == 1
    for call in (
        lambda: report(other.run_id, started),
        lambda: reporting.Heartbeat(
            reporting_pb2.HeartbeatRequest(run_id=other.run_id), metadata=metadata
        ),
        lambda: auth_server.control_plane().GetRun(
            cp.GetRunRequest(run_id=run.run_id), metadata=metadata
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as caught:  # no token at all
        report(run.run_id, started, md=tuple(headers(None, scope).items()))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # A user token, even an admin's, cannot report: reporting takes the run's own token.
    admin = token(storage, scope, Role.ADMIN)
    with pytest.raises(grpc.RpcError) as caught:
        report(run.run_id, started, md=tuple(headers(admin, scope).items()))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED

    success = event(2, events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS)
    assert report(run.run_id, success).acknowledged_sequence == 2
    assert storage.runs.get_run(scope, run.run_id).status.value == "SUCCESS"
    for call in (
        lambda: report(run.run_id, event(3, events_pb2.RUN_EVENT_TYPE_LOG, message="late")),
        lambda: reporting.Heartbeat(
            reporting_pb2.HeartbeatRequest(run_id=run.run_id), metadata=metadata
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "ended" in (caught.value.details() or "")


def test_attempt_tokens_report_for_their_own_step_attempt_only(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "etl", etl_snapshot())
    run = storage.runs.create_run(scope, _new_run())
    run_md = tuple(headers(run_token(storage, scope, run.run_id), scope).items())
    reporting = auth_server.reporting()
    keys = [f"weir-{run.run_id[:8]}-{n}" for n in (1, 2)]
    registered = reporting.RegisterStepAttempts(
        reporting_pb2.RegisterStepAttemptsRequest(
            run_id=run.run_id,
            attempts=[
                reporting_pb2.StepAttemptSpec(
                    step_key=step, attempt=1, launch_key=key, lease_seconds=30
                )
                for step, key in zip(("orders", "revenue"), keys, strict=True)
            ],
        ),
        metadata=run_md,
    )
    first, second = (a.token for a in registered.attempts)
    assert first and second and first != second
    first_md = tuple(headers(first, scope).items())

    def claim(key: str, md: Any) -> Any:
        return reporting.ClaimStepAttempt(
            reporting_pb2.ClaimStepAttemptRequest(run_id=run.run_id, launch_key=key, worker_id="w"),
            metadata=md,
        )

    assert claim(keys[0], first_md).claimed
    for call in (
        lambda: claim(keys[1], first_md),  # another attempt's
        lambda: claim(keys[0], run_md),  # the run's token is not the attempt's
        lambda: reporting.GetStepAttempts(  # an attempt cannot follow the run
            reporting_pb2.GetStepAttemptsRequest(run_id=run.run_id, launch_keys=keys),
            metadata=first_md,
        ),
        lambda: reporting.ReportEvents(  # nor report as the run's worker
            reporting_pb2.ReportEventsRequest(run_id=run.run_id), metadata=first_md
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED, call


def test_the_launcher_mints_a_run_token_that_storage_keeps_only_as_a_hash(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "etl", etl_snapshot())
    run = storage.runs.create_run(scope, _new_run())
    request = auth_server.coordinator._execute_request(scope, run, "sha256:x")
    assert request.reporting_token.startswith("weir_") and len(request.reporting_token) > 40
    import sqlalchemy as sa
    from weir_controlplane.storage.schema import api_tokens

    with storage.database.read() as conn:
        rows = conn.execute(sa.select(api_tokens).where(api_tokens.c.run_id == run.run_id)).all()
    assert len(rows) == 1
    assert rows[0].secret_hash == hash_secret(request.reporting_token)
    assert request.reporting_token not in repr(rows[0])


# --- deployments and the audit log ------------------------------------------------------------


def test_branch_deployments_start_empty_and_expire_with_all_their_rows(
    auth_server: ApiServer, storage: Storage
) -> None:
    import sqlalchemy as sa
    from weir_controlplane.storage.schema import metadata
    from weir_controlplane.tenancy import DeploymentReaper

    org_admin = token(storage, None, Role.ORG_ADMIN)
    prod = storage.deployments.get_scope("prod")
    name = f"pr-{uuid.uuid4().hex[:8]}"
    with _client(auth_server, org_admin, prod) as http:
        reply = http.post(
            "CreateDeployment", json={"name": name, "baseDeployment": "prod", "expiresInSeconds": 1}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["deployment"]["baseDeployment"] == "prod"
        assert http.post("CreateDeployment", json={"name": name}).status_code == 409
        assert http.post("CreateDeployment", json={"name": "Bad Name!"}).status_code == 400
        assert http.post("DeleteDeployment", json={"name": "prod"}).status_code == 400
        names = {d["name"] for d in http.post("ListDeployments", json={}).json()["deployments"]}
        assert {"prod", name} <= names
    branch = storage.deployments.get_scope(name)
    with _client(auth_server, org_admin, branch) as http:
        assert http.post("ListCodeLocations", json={}).json().get("codeLocations", []) == []
    add_location(storage, branch, "etl", etl_snapshot())
    run = storage.runs.create_run(branch, _new_run())
    storage.events.store_batch(branch, run.run_id, [_materialization(run.run_id)])
    token(storage, branch, Role.VIEWER)
    reaper = DeploymentReaper(storage.deployments, auth_server.deployments)
    assert name not in reaper.reap()  # not yet expired
    time.sleep(1.1)
    assert name in reaper.reap()
    with storage.database.read() as conn:
        for table in metadata.sorted_tables:
            if "deployment_id" in table.c and table.name != "audit_log":
                left = conn.execute(
                    sa.select(sa.func.count()).where(table.c.deployment_id == branch.deployment_id)
                ).scalar_one()
                assert left == 0, table.name
    with _client(auth_server, org_admin, branch) as http:
        assert http.post("ListRuns", json={}).status_code == 404  # gone, to its org admin


def _materialization(run_id: str) -> Any:
    from weir_controlplane.runs.events import to_new_event

    materialization = event(
        1, events_pb2.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")
    )
    materialization.run_id = run_id
    return to_new_event(materialization)


def test_every_mutation_is_audited_allowed_or_denied_newest_first(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    storage = auth_server.storage
    add_location(storage, scope, "etl", etl_snapshot())
    admin = token(storage, scope, Role.ADMIN)
    viewer = token(storage, scope, Role.VIEWER)
    with _client(auth_server, admin, scope) as http:
        run_id = http.post("LaunchRun", json={"selection": "orders"}).json()["run"]["runId"]
    with _client(auth_server, viewer, scope) as http:
        assert http.post("CancelRun", json={"runId": run_id}).status_code == 403
        assert http.post("ListRuns", json={}).status_code == 200  # a read: not audited
    with _client(auth_server, admin, scope) as http:
        entries = http.post("ListAuditLog", json={}).json()["entries"]
        assert [(e["method"].rsplit("/", 1)[1], e["outcome"]) for e in entries] == [
            ("CancelRun", "PERMISSION_DENIED"),
            ("LaunchRun", "OK"),
        ]
        assert entries[1]["target"] == run_id and entries[0]["target"] == run_id
        assert entries[0]["deployment"] == scope.name and entries[0]["clientAddress"]
        by_method = http.post("ListAuditLog", json={"method": "LaunchRun"}).json()["entries"]
        assert len(by_method) == 1 and by_method[0]["actor"].startswith("tok_")
        page = http.post("ListAuditLog", json={"limit": 1}).json()
        assert len(page["entries"]) == 1 and page["nextCursor"]
        rest = http.post("ListAuditLog", json={"limit": 1, "cursor": page["nextCursor"]}).json()
        assert rest["entries"][0]["method"].endswith("LaunchRun")
        # "*" (every deployment) is for organization admins.
        assert http.post("ListAuditLog", json={"deployment": "*"}).status_code == 403


def test_roles_in_the_proto_match_the_servers() -> None:
    values = tenancy_pb2.Role.DESCRIPTOR.values_by_name
    names = {name.removeprefix("ROLE_").lower() for name in values} - {"unspecified"}
    assert names == {role.value for role in Role} - {"run"}
    from weir_controlplane.cli.access import ROLE_NAMES

    assert set(ROLE_NAMES) == names


def test_a_token_is_stored_only_as_its_hash(auth_server: ApiServer, scope: DeploymentScope) -> None:
    import sqlalchemy as sa

    storage = auth_server.storage
    admin = token(storage, scope, Role.ADMIN)
    with _client(auth_server, admin, scope) as http:
        secret = http.post("CreateToken", json={"role": "ROLE_VIEWER", "name": "x"}).json()[
            "secret"
        ]
    with storage.database.read() as conn:
        for table in ("api_tokens", "role_bindings", "audit_log"):
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            assert secret not in repr(rows) and admin not in repr(rows)


def test_callers_learn_what_their_role_allows_where(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    def held(secret: str) -> dict[str, Any]:
        with _client(auth_server, secret, scope) as http:
            reply = http.post("GetCallerPermissions", json={})
        assert reply.status_code == 200, reply.text
        return reply.json()

    viewer = held(token(auth_server.storage, scope, Role.VIEWER))
    assert viewer["actor"].startswith("tok_") and viewer["name"].startswith("viewer-")
    assert [p["permission"] for p in viewer["permissions"]] == ["read", "signed_in"]
    assert all(p["allCodeLocations"] for p in viewer["permissions"])
    launcher = held(token(auth_server.storage, scope, Role.LAUNCHER, locations=["finance"]))
    assert {p["permission"]: p.get("codeLocations") for p in launcher["permissions"]} == {
        "launch": ["finance"],
        "read": ["finance"],
        "signed_in": ["finance"],
    }
    assert not launcher.get("organizationAdmin")
    admin = held(token(auth_server.storage, None, Role.ORG_ADMIN))
    assert admin["organizationAdmin"] is True
    assert "manage_deployments" in [p["permission"] for p in admin["permissions"]]
    # Another deployment's token holds nothing here: refused like any call there.
    other = auth_server.storage.deployments.ensure_deployment(f"other-{uuid.uuid4().hex[:6]}")
    with _client(auth_server, token(auth_server.storage, other, Role.ADMIN), scope) as http:
        assert http.post("GetCallerPermissions", json={}).status_code == 403


def test_alert_policies_take_edit_on_every_code_location_they_cover(
    auth_server: ApiServer, scope: DeploymentScope
) -> None:
    """A policy sees events of its code locations (all of them when it names none): a grant
    narrowed to some locations changes and sees only policies within them."""
    storage = auth_server.storage
    add_location(storage, scope, "finance", snapshot(asset("ledger")))
    add_location(storage, scope, "marketing", snapshot(asset("campaigns")))
    narrowed = token(storage, scope, Role.EDITOR, locations=["finance"])
    editor = token(storage, scope, Role.EDITOR)
    viewer = token(storage, scope, Role.VIEWER)

    def policy(name: str, locations: list[str]) -> dict[str, Any]:
        return {
            "policy": {
                "name": name,
                "kinds": ["ALERT_EVENT_KIND_RUN_FAILED"],
                "webhookUrl": "https://hooks.example.com/secret-path",
                "codeLocations": locations,
            }
        }

    with _client(auth_server, editor, scope) as http:
        everywhere = http.post("CreateAlertPolicy", json=policy("all", [])).json()["policy"]
        assert http.post("CreateAlertPolicy", json=policy("mkt", ["marketing"])).status_code == 200
    with _client(auth_server, narrowed, scope) as http:
        assert http.post("CreateAlertPolicy", json=policy("fin", ["finance"])).status_code == 200
        refused = http.post("CreateAlertPolicy", json=policy("all-2", []))
        assert refused.status_code == 403 and "every code location" in refused.json()["message"]
        other = http.post("CreateAlertPolicy", json=policy("mkt-2", ["marketing"]))
        assert other.status_code == 403 and "'marketing'" in other.json()["message"]
        listed = http.post("ListAlertPolicies", json={}).json()["policies"]
        assert [p["name"] for p in listed] == ["fin"]
        hidden = http.post("DeleteAlertPolicy", json={"policyId": everywhere["policyId"]})
        assert hidden.status_code == 404
        assert http.post("ListAlertDeliveries", json={}).status_code == 403
        own = http.post("ListAlertDeliveries", json={"policyId": listed[0]["policyId"]})
        assert own.status_code == 200
    with _client(auth_server, viewer, scope) as http:
        names = [p["name"] for p in http.post("ListAlertPolicies", json={}).json()["policies"]]
        assert names == ["all", "fin", "mkt"]
        assert http.post("CreateAlertPolicy", json=policy("v", ["finance"])).status_code == 403
    audited = storage.audit.list(
        storage.deployments.default_organization_id(), AuditFilter(deployment=scope), limit=50
    )
    created = [e for e in audited.items if e.method.endswith("/CreateAlertPolicy")]
    assert everywhere["policyId"] in {e.target for e in created}
    assert all("secret-path" not in e.target for e in audited.items)
