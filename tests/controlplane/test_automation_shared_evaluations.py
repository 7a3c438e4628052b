"""Evaluations shared by identically situated assets: stored as one tree with each asset's
own dependencies, served by GetAutomationEvaluations exactly as if each asset's had been
stored whole, and deleted by retention once no evaluation names them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_harness import ApiServer, add_location, asset, key, launch, md, snapshot
from test_automation_daemon import Clock, daemon, materialize, with_condition
from weir import AutomationCondition as AC
from weir_controlplane.automation import daemon as daemon_module
from weir_controlplane.storage import DeploymentScope, Storage
from weir_controlplane.storage.automation import NewEvaluation, SharedTree
from weir_controlplane.storage.schema import automation_evaluations, automation_shared_evaluations
from weir_protos.v1 import automation_pb2
from weir_protos.v1 import control_plane_pb2 as cp

NAMES = ["u1", "u2", "u3", "u4"]


def _fan(server: ApiServer) -> DeploymentScope:
    """A deployment of four upstreams, each with an eager downstream of its own."""
    scope = server.storage.deployments.ensure_deployment(f"test-{uuid.uuid4().hex[:12]}")
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            *(asset(name) for name in NAMES),
            *(with_condition(asset(f"d{n[1]}", deps=[n]), AC.eager()) for n in NAMES),
        ),
    )
    return scope


def _history(server: ApiServer, scope: DeploymentScope, name: str) -> list[tuple]:
    """An asset's evaluations as the API serves them, less the ids and times that differ
    between deployments."""
    reply = server.control_plane().GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key(name)), metadata=md(scope)
    )
    return [
        (e.tick_number, e.requested_count, list(e.run_ids) != [], e.error, e.condition)
        for e in reply.evaluations
    ]


def _ticks(server: ApiServer, scope: DeploymentScope) -> None:
    """Three ticks, with u3 materialized after the first (d3 is requested, then not)."""
    clock = Clock()
    automation = daemon(server, clock)
    automation.tick(scope)
    run = launch(server, scope, "u3")
    materialize(server, scope, run.run_id, "u3")
    for _ in range(2):
        clock.advance()
        automation.tick(scope)


def test_copies_are_stored_once_and_served_as_each_assets_own(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = _fan(server)
    _ticks(server, shared)
    with server.storage.database.read() as conn:
        rows = conn.execute(
            sa.select(
                automation_evaluations.c.asset_key,
                automation_evaluations.c.tick_number,
                automation_evaluations.c.body,
                automation_evaluations.c.shared_id,
            ).where(automation_evaluations.c.deployment_id == shared.deployment_id)
        ).all()
        trees = conn.execute(
            sa.select(automation_shared_evaluations.c.id).where(
                automation_shared_evaluations.c.deployment_id == shared.deployment_id
            )
        ).all()
    first = [r for r in rows if r.tick_number == 1]
    # d1 evaluated; d2..d4 copies of it: empty bodies naming one stored tree.
    assert sorted(r.asset_key for r in first if r.shared_id is None) == ["d1"]
    copies = [r for r in first if r.shared_id is not None]
    assert len(copies) == 3 and {r.body for r in copies} == {b""}
    assert len({r.shared_id for r in copies}) == 1 and len(trees) >= 1

    # The same ticks on a deployment where nothing is shared: every asset's history
    # reads the same through the API.
    monkeypatch.setattr(daemon_module, "situation", lambda *args: None)
    alone = _fan(server)
    _ticks(server, alone)
    for name in ("d1", "d2", "d3", "d4"):
        history = _history(server, shared, name)
        assert history == _history(server, alone, name)
        assert len(history) >= 2
        newest = history[0][4]
        deps_updated = newest.children[1].children[0].children[1]
        assert list(deps_updated.children[0].dependency.path) == [f"u{name[1]}"]
    assert _history(server, shared, "d3")[1][1] == 1  # d3 was requested on the second
    # The copies' states, stored as text made from the shared evaluation's, are those of
    # the assets evaluated alone.
    states = server.storage.automation.asset_states
    assert states(shared) == states(alone)
    assert {"d1", "d2", "d3", "d4"} <= states(shared).keys()


def _store(
    storage: Storage, scope: DeploymentScope, at: datetime, rows: list[NewEvaluation]
) -> None:
    automation = storage.automation
    interval, lease = timedelta(0), timedelta(seconds=60)
    claim = automation.claim_tick(scope, owner="a", now=at, interval=interval, lease=lease)
    assert claim is not None
    assert automation.finish_tick(
        scope, "a", claim, now=at, event_cursor=0, carry={}, states={}, evaluations=rows
    )


def _tree(dependency: str) -> SharedTree:
    message = automation_pb2.AutomationConditionEvaluation(node_type="any_deps_match")
    message.children.add(node_type="newly_updated").dependency.path.append(dependency)
    return SharedTree(message.SerializeToString(), ((0,),))


def test_retention_deletes_a_shared_tree_once_no_evaluation_names_it(
    storage: Storage, scope: DeploymentScope
) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=30)
    tree = _tree("u_a")
    _store(
        storage,
        scope,
        old,
        [
            NewEvaluation("a", 0, (), (), None, b"", tree, ("u_a",)),
            NewEvaluation("b", 0, (), (), None, b"", tree, ("u_b",)),
        ],
    )
    (b_old,) = storage.automation.list_evaluations(scope, "b").items
    served = automation_pb2.AutomationConditionEvaluation.FromString(b_old.body)
    assert list(served.children[0].dependency.path) == ["u_b"]  # b's own, not a's

    _store(storage, scope, now, [NewEvaluation("a", 0, (), (), None, b"")])  # a newer one
    automation, cutoff = storage.automation, now - timedelta(days=7)

    def trees() -> int:
        table = automation_shared_evaluations
        query = sa.select(sa.func.count()).where(table.c.deployment_id == scope.deployment_id)
        with storage.database.read() as conn:
            return int(conn.execute(query).scalar_one())

    # a's old evaluation goes; b's still names the tree, so it stays.
    assert automation.prune_evaluations(scope, keep=1, older_than=cutoff) == 1
    assert trees() == 1
    (b_kept,) = automation.list_evaluations(scope, "b").items
    assert b_kept.body == b_old.body
    # b's goes too (nothing newer is kept for it): the tree with it.
    assert automation.prune_evaluations(scope, keep=0, older_than=cutoff) == 1
    assert trees() == 0
    assert len(automation.list_evaluations(scope, "a").items) == 1
