"""The automation evaluator over crafted state: each condition, composition, since,
newly_true, dependencies and partitions.

Conditions are written with the SDK and sent through the code server's wire conversion,
as a snapshot carries them; the state each tick sees is given as `AssetFacts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from weir import AutomationCondition as AC
from weir_codeserver.wire_automation import automation_condition_message
from weir_controlplane.automation.conditions import (
    AssetFacts,
    AssetMemory,
    CheckFacts,
    Dep,
    Evaluation,
    Partitions,
    evaluate,
)
from weir_protos.v1 import automation_pb2

ONE = frozenset({""})
NONE: Partitions = frozenset()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    """The stored state of a few assets and what each remembers, tick after tick."""

    assets: dict[str, AssetFacts]
    memories: dict[str, AssetMemory] = field(default_factory=dict)
    targets: dict[str, frozenset[str]] = field(default_factory=dict)
    versions: dict[tuple[str, str], str] = field(default_factory=dict)
    asset_checks: dict[str, tuple[CheckFacts, ...]] = field(default_factory=dict)
    freshness_states: dict[str, str] = field(default_factory=dict)
    now: datetime = T0
    previous_tick_at: float | None = None
    _requested: dict[str, Partitions] = field(default_factory=dict)

    # conditions.Facts
    def asset(self, key: str) -> AssetFacts:
        return self.assets[key]

    def previous(self, key: str) -> AssetMemory | None:
        return self.memories.get(key)

    def run_targets(self, run_id: str) -> frozenset[str]:
        return self.targets.get(run_id, frozenset())

    def requested_now(self, key: str) -> Partitions:
        return self._requested.get(key, NONE)

    def data_versions(self, key: str, partitions: Partitions) -> dict[str, str]:
        return {p: self.versions.get((key, p), "") for p in partitions}

    def checks(self, key: str) -> tuple[CheckFacts, ...]:
        return self.asset_checks.get(key, ())

    def freshness(self, key: str) -> str | None:
        return self.freshness_states.get(key)

    def tick(self, conditions: Mapping[str, AC], **changes: dict) -> dict[str, Evaluation]:
        """One tick, a minute after the last: apply `changes` (asset -> AssetFacts fields),
        evaluate `conditions` in order, remember what they leave."""
        self.previous_tick_at = self.now.timestamp()
        self.now += timedelta(minutes=1)
        self._requested = {}
        for key, fields in changes.items():
            self.assets[key] = replace(self.assets[key], **fields)
        results = {}
        for key, condition in conditions.items():
            message = automation_condition_message(condition)
            digest = message.SerializeToString(deterministic=True).hex()[:32]
            result = evaluate(key, message, digest, self.memories.get(key), self)
            self.memories[key] = result.memory
            self._requested[key] = result.requested
            results[key] = result
        # What a tick leaves: nothing is newly updated on the next one unless it says so.
        for key, facts in self.assets.items():
            self.assets[key] = replace(facts, newly_updated=NONE)
        return results


def unpartitioned(key: str, *deps: str, **fields: object) -> AssetFacts:
    return AssetFacts(
        key=key, universe=ONE, deps=tuple(Dep(d, "unpartitioned") for d in deps), **fields
    )  # type: ignore[arg-type]


def requested(results: Mapping[str, Evaluation], key: str) -> Partitions:
    return results[key].requested


# --- operands ---------------------------------------------------------------------------


def test_operands_read_the_stored_state() -> None:
    world = World(
        {
            "a": unpartitioned("a"),
            "b": unpartitioned("b", materialized=ONE, failed=ONE),
            "c": unpartitioned("c", materialized=ONE, in_progress=ONE, newly_updated=ONE),
        }
    )
    for_each = {"a": None, "b": None, "c": None}

    def true_where(condition: AC) -> set[str]:
        world.memories.clear()
        saved = dict(world.assets)
        results = world.tick(dict.fromkeys(for_each, condition))
        world.assets = saved
        return {key for key, result in results.items() if result.result and result.result.true}

    assert true_where(AC.missing()) == {"a"}
    assert true_where(AC.execution_failed()) == {"b"}
    assert true_where(AC.newly_updated()) == {"c"}
    assert true_where(AC.in_progress()) == {"c"}
    assert true_where(~AC.in_progress()) == {"a", "b"}
    assert true_where(AC.missing() | AC.execution_failed()) == {"a", "b"}
    assert true_where(~AC.missing() & ~AC.execution_failed()) == {"c"}


def test_nothing_in_progress_is_requested_again() -> None:
    world = World({"a": unpartitioned("a", in_progress=ONE)})
    result = world.tick({"a": AC.missing()})["a"]
    assert result.result is not None and result.result.true == ONE
    assert result.requested == NONE


def test_initial_evaluation_is_true_once_and_again_when_the_condition_changes() -> None:
    world = World({"a": unpartitioned("a")})
    assert requested(world.tick({"a": AC.initial_evaluation()}), "a") == ONE
    assert requested(world.tick({"a": AC.initial_evaluation()}), "a") == NONE
    changed = AC.initial_evaluation() | AC.execution_failed()
    assert requested(world.tick({"a": changed}), "a") == ONE


def test_newly_true_is_true_on_the_tick_its_operand_turns_true() -> None:
    world = World({"a": unpartitioned("a", materialized=ONE)})
    condition = {"a": AC.missing().newly_true()}
    assert requested(world.tick(condition), "a") == NONE
    assert requested(world.tick(condition, a={"materialized": NONE}), "a") == ONE
    assert requested(world.tick(condition), "a") == NONE  # still missing, not newly


def test_since_holds_from_trigger_to_reset_and_a_same_tick_reset_wins() -> None:
    world = World({"a": unpartitioned("a", materialized=ONE)})
    condition = {"a": AC.execution_failed().since(AC.newly_updated())}
    assert requested(world.tick(condition), "a") == NONE
    assert requested(world.tick(condition, a={"failed": ONE}), "a") == ONE
    # The failure is no longer the latest outcome, yet `since` still holds it...
    assert requested(world.tick(condition, a={"failed": NONE}), "a") == ONE
    # ... until the reset.
    assert requested(world.tick(condition, a={"newly_updated": ONE}), "a") == NONE
    assert requested(world.tick(condition), "a") == NONE
    both = {"failed": ONE, "newly_updated": ONE}
    assert requested(world.tick(condition, a=both), "a") == NONE


def test_code_version_changed() -> None:
    world = World({"a": unpartitioned("a", code_version="1")})
    condition = {"a": AC.code_version_changed()}
    assert requested(world.tick(condition), "a") == NONE
    assert requested(world.tick(condition, a={"code_version": "2"}), "a") == ONE
    assert requested(world.tick(condition), "a") == NONE


def test_data_version_changed_is_true_for_a_new_version_only() -> None:
    world = World({"a": daily("a", 2, materialized=frozenset({"2026-03-01", "2026-03-02"}))})
    condition = {"a": AC.data_version_changed()}
    world.tick(condition)
    both = frozenset({"2026-03-01", "2026-03-02"})
    world.versions = {("a", "2026-03-01"): "v1", ("a", "2026-03-02"): "v1"}
    assert requested(world.tick(condition, a={"newly_updated": both}), "a") == both
    # Materialized again: one with the same version, one with a new one.
    world.versions[("a", "2026-03-02")] = "v2"
    assert requested(world.tick(condition, a={"newly_updated": both}), "a") == {"2026-03-02"}
    assert requested(world.tick(condition), "a") == NONE


# --- eager ------------------------------------------------------------------------------


def test_eager_requests_a_downstream_once_per_upstream_update() -> None:
    world = World({"up": unpartitioned("up"), "down": unpartitioned("down", "up")})
    eager = {"down": AC.eager()}
    # The first evaluation only takes stock: nothing is requested for what was already so.
    assert requested(world.tick(eager), "down") == NONE
    # The upstream is still missing: nothing to do.
    assert requested(world.tick(eager), "down") == NONE

    world.targets["run-up"] = frozenset({"up"})
    update = {"materialized": ONE, "newly_updated": ONE, "latest_run": {"": "run-up"}}
    assert requested(world.tick(eager, up=update), "down") == ONE
    # Requested on the previous tick: handled, even before the run shows as in progress.
    assert requested(world.tick(eager), "down") == NONE
    assert requested(world.tick(eager, down={"in_progress": ONE}), "down") == NONE
    done = {"in_progress": NONE, "materialized": ONE, "newly_updated": ONE}
    assert requested(world.tick(eager, down=done), "down") == NONE
    assert requested(world.tick(eager), "down") == NONE
    # A new upstream materialization: once more.
    assert requested(world.tick(eager, up={"newly_updated": ONE}), "down") == ONE


def test_eager_waits_for_upstreams_in_progress_and_skips_updates_by_its_own_runs() -> None:
    world = World(
        {
            "up": unpartitioned("up", materialized=ONE),
            "down": unpartitioned("down", "up", materialized=ONE),
        }
    )
    eager = {"down": AC.eager()}
    world.tick(eager)
    # The upstream was updated by a run that also materialized down: nothing to do.
    world.targets["both"] = frozenset({"up", "down"})
    both = {"newly_updated": ONE, "latest_run": {"": "both"}}
    assert requested(world.tick(eager, up=both, down={"newly_updated": ONE}), "down") == NONE
    # Updated alone, but being materialized again: down waits for that run...
    world.targets["up-only"] = frozenset({"up"})
    alone = {"newly_updated": ONE, "latest_run": {"": "up-only"}, "in_progress": ONE}
    assert requested(world.tick(eager, up=alone), "down") == NONE
    # ... and goes once it is done (the update is still unhandled).
    assert requested(world.tick(eager, up={"in_progress": NONE}), "down") == ONE


def test_eager_explains_itself() -> None:
    world = World({"up": unpartitioned("up"), "down": unpartitioned("down", "up")})
    world.tick({"down": AC.eager()})
    world.targets["r"] = frozenset({"up"})
    update = {"materialized": ONE, "newly_updated": ONE, "latest_run": {"": "r"}}
    result = world.tick({"down": AC.eager()}, up=update)["down"].result
    assert result is not None and result.node.label == "eager"
    kinds = [child.node.node_type for child in result.children]
    assert kinds == ["in_latest_time_window", "since", "not", "not", "not"]
    assert [child.true for child in result.children] == [ONE] * 5
    since = result.children[1]
    trigger = since.children[0]  # newly_missing | any_deps_updated
    deps_updated = trigger.children[1]
    assert deps_updated.node.label == "any_deps_updated" and deps_updated.true == ONE
    assert [(c.dependency, c.true) for c in deps_updated.children] == [("up", ONE)]


def test_will_be_requested_lets_a_chain_go_in_one_tick() -> None:
    world = World(
        {
            "a": unpartitioned("a"),
            "b": unpartitioned("b", "a"),
        }
    )
    on_missing = {"a": AC.on_missing(), "b": AC.on_missing()}
    world.tick(on_missing)
    world.assets["a"] = replace(world.assets["a"], materialized=ONE)
    world.assets["b"] = replace(world.assets["b"], materialized=ONE)
    world.tick(on_missing)
    # Both go missing (say, wiped): a is requested, and b in the same tick, because its
    # missing upstream will be requested (~any_deps_missing allows for that).
    results = world.tick(on_missing, a={"materialized": NONE}, b={"materialized": NONE})
    assert requested(results, "a") == ONE and requested(results, "b") == ONE


# --- on_cron ----------------------------------------------------------------------------


def test_on_cron_requests_once_per_tick_after_every_upstream_updated() -> None:
    world = World(
        {"up": unpartitioned("up", materialized=ONE), "down": unpartitioned("down", "up")},
        now=datetime(2026, 3, 1, 0, 57, tzinfo=UTC),
    )
    hourly = {"down": AC.on_cron("0 * * * *")}
    world.tick(hourly)  # 00:58, the first evaluation
    assert requested(world.tick(hourly), "down") == NONE  # 00:59
    # 01:00: the hour's tick passed, but the upstream has not updated since it.
    assert requested(world.tick(hourly), "down") == NONE
    world.targets["r"] = frozenset({"up"})
    update = {"newly_updated": ONE, "latest_run": {"": "r"}}
    assert requested(world.tick(hourly, up=update), "down") == ONE  # 01:01
    assert requested(world.tick(hourly), "down") == NONE  # handled
    world.tick(hourly, down={"newly_updated": ONE, "materialized": ONE})
    for _ in range(20):  # the rest of the hour, upstream updates or not
        assert requested(world.tick(hourly, up=update), "down") == NONE
    world.now = datetime(2026, 3, 1, 1, 59, 30, tzinfo=UTC)
    world.tick(hourly)
    assert requested(world.tick(hourly, up=update), "down") == ONE  # 02:00:30


# --- partitions -------------------------------------------------------------------------


def daily(key: str, days: int, *deps: str, **fields: object) -> AssetFacts:
    keys = [f"2026-03-{d:02d}" for d in range(1, days + 1)]
    return AssetFacts(
        key=key,
        universe=frozenset(keys),
        deps=tuple(Dep(d, "identity") for d in deps),
        latest_window=lambda lookback: frozenset(keys[-1:] if not lookback else keys[-2:]),
        **fields,  # type: ignore[arg-type]
    )


def test_eager_on_partitions_evaluates_the_latest_window_only() -> None:
    world = World({"up": daily("up", 3), "down": daily("down", 3, "up")})
    eager = {"down": AC.eager()}
    world.tick(eager)
    runs = {"2026-03-02": "r2", "2026-03-03": "r3"}
    world.targets.update(r2=frozenset({"up"}), r3=frozenset({"up"}))
    update = {
        "materialized": frozenset(runs),
        "newly_updated": frozenset(runs),
        "latest_run": runs,
    }
    result = world.tick(eager, up=update)["down"]
    # Both upstream partitions updated; only the latest window is requested.
    assert result.requested == {"2026-03-03"}
    assert result.result is not None and result.result.children[0].true == {"2026-03-03"}


def test_since_remembers_each_partition_apart() -> None:
    world = World({"a": daily("a", 3)})
    condition = {"a": AC.execution_failed().since(AC.newly_updated())}
    world.tick(condition)
    failed = frozenset({"2026-03-01", "2026-03-02"})
    assert requested(world.tick(condition, a={"failed": failed}), "a") == failed
    fixed = {"failed": NONE, "newly_updated": frozenset({"2026-03-01"})}
    assert requested(world.tick(condition, a=fixed), "a") == {"2026-03-02"}


def test_an_unmappable_dependency_fails_the_evaluation_saying_why() -> None:
    world = World(
        {
            "up": daily("up", 2),
            "down": AssetFacts(
                "down",
                ONE,
                deps=(Dep("up", "a last partition mapping, which automation does not map yet"),),
            ),
        }
    )
    result = world.tick({"down": AC.any_deps_match(AC.missing())})["down"]
    assert result.requested == NONE
    assert (
        result.error is not None and "'down'" in result.error and "last partition" in result.error
    )


def test_an_unknown_node_type_is_the_evaluations_error() -> None:
    node = automation_pb2.AutomationConditionNode(
        node_type="and",
        children=[
            automation_pb2.AutomationConditionNode(node_type="missing"),
            automation_pb2.AutomationConditionNode(node_type="moon_is_full"),
        ],
    )
    world = World({"a": unpartitioned("a")})
    result = evaluate("a", node, "h", None, world)
    assert result.requested == NONE
    assert result.error is not None and "'moon_is_full'" in result.error


def test_freshness_operands_follow_the_assets_freshness_state() -> None:
    world = World({"a": unpartitioned("a", materialized=ONE)})
    stale = AC.freshness_failed() & ~AC.in_progress()
    assert world.tick({"a": stale})["a"].requested == NONE  # no policy: never stale
    world.freshness_states["a"] = "WARN"
    assert world.tick({"a": stale})["a"].requested == NONE
    assert world.tick({"a": AC.freshness_warned()})["a"].requested == ONE
    world.freshness_states["a"] = "FAIL"
    assert world.tick({"a": stale})["a"].requested == ONE
    world.freshness_states["a"] = "PASS"
    assert world.tick({"a": AC.freshness_passed()})["a"].requested == ONE
    assert world.tick({"a": stale})["a"].requested == NONE


@pytest.mark.parametrize("with_all", [True, False])
def test_all_and_any_deps_match(with_all: bool) -> None:
    world = World(
        {
            "x": unpartitioned("x", materialized=ONE),
            "y": unpartitioned("y"),
            "z": unpartitioned("z", "x", "y"),
        }
    )
    condition = (AC.all_deps_match if with_all else AC.any_deps_match)(AC.missing())
    assert requested(world.tick({"z": condition}), "z") == (NONE if with_all else ONE)


def test_checks_match_evaluates_its_operand_on_each_check() -> None:
    a = unpartitioned("a", materialized=ONE)
    checks = (
        CheckFacts("rows", True, replace(a, materialized=ONE, failed=ONE, check="rows")),
        CheckFacts("schema", False, replace(a, materialized=ONE, check="schema")),
        CheckFacts("late", False, replace(a, materialized=NONE, check="late")),
    )
    world = World({"a": a}, asset_checks={"a": checks})

    Node = automation_pb2.AutomationConditionNode

    def node(node_type: str, *children: Node, **params: str) -> Node:
        return automation_pb2.AutomationConditionNode(
            node_type=node_type, children=children, params=params
        )

    def true(condition: Node) -> bool:
        result = evaluate("a", condition, condition.SerializeToString().hex(), None, world)
        assert result.error is None, result.error
        assert result.result is not None
        return bool(result.result.true)

    assert true(node("any_checks_match", node("check_failed")))
    assert not true(node("all_checks_match", node("check_passed")))
    assert true(node("all_checks_match", node("check_failed"), blocking_only="true"))
    assert true(node("any_checks_match", node("missing")))  # "late" was never evaluated
    assert true(node("all_checks_match", node("not", node("missing")), blocking_only="true"))
    evaluated = evaluate("a", node("any_checks_match", node("check_passed")), "h1", None, world)
    assert evaluated.result is not None
    assert [r.check for r in evaluated.result.children] == ["rows", "schema", "late"]
    assert [bool(r.true) for r in evaluated.result.children] == [False, True, False]
    outside = evaluate("a", node("check_passed"), "h2", None, world)
    assert outside.error is not None and "any_checks_match" in outside.error


def test_sdk_check_conditions_evaluate_as_dagsters() -> None:
    """The SDK's check constructors, through the wire: a failed blocking check upstream
    holds the downstream back until it passes, or until the upstream is requested on the
    same tick; a failing non-blocking check does not."""
    up = unpartitioned("up", materialized=ONE)

    def check(name: str, blocking: bool, *, passed: bool) -> CheckFacts:
        facts = replace(up, materialized=ONE, failed=NONE if passed else ONE, check=name)
        return CheckFacts(name, blocking, facts)

    world = World({"up": up, "down": unpartitioned("down", "up", materialized=ONE)})
    gate = AC.all_deps_blocking_checks_passed()

    def down_passes(*checks: CheckFacts, up_condition: AC | None = None) -> bool:
        world.asset_checks = {"up": checks}
        conditions = {"down": gate} if up_condition is None else {"up": up_condition, "down": gate}
        result = world.tick(conditions)["down"]
        assert result.error is None, result.error
        assert result.result is not None
        return bool(result.result.true)

    assert not down_passes(check("rows", True, passed=False), check("style", False, passed=True))
    assert down_passes(check("rows", True, passed=True), check("style", False, passed=False))
    assert down_passes()  # no checks: nothing blocks
    # Requested upstream on this tick: the run's own blocking check guards the downstream.
    assert down_passes(check("rows", True, passed=False), up_condition=AC.missing() | ~AC.missing())

    world.asset_checks = {
        "up": (check("rows", True, passed=False), check("style", False, passed=True))
    }
    results = world.tick(
        {
            "up": AC.any_checks_match(AC.check_failed()),
            "down": AC.any_checks_match(AC.check_failed(), blocking_only=True),
        }
    )
    assert requested(results, "up") == ONE
    assert requested(results, "down") == NONE  # down has no checks


def test_sdk_run_and_backfill_in_progress_read_their_runs() -> None:
    world = World(
        {
            "run": unpartitioned("run", in_progress=ONE),
            "backfill": unpartitioned("backfill", in_progress=ONE, backfill_in_progress=ONE),
            "idle": unpartitioned("idle"),
        }
    )
    for condition, expected in (
        (AC.run_in_progress(), {"run", "backfill"}),
        (AC.backfill_in_progress(), {"backfill"}),
        (~AC.backfill_in_progress() & AC.run_in_progress(), {"run"}),
    ):
        results = world.tick(dict.fromkeys(world.assets, condition))
        assert {k for k, r in results.items() if r.result and r.result.true} == expected
