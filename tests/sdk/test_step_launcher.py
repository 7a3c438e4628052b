"""The engine-neutral walk behind the multiprocess and Celery executors, driven through a
StepLauncher whose attempts end as the test says (one per poll): lost attempts retried by
RetryPolicy with new launch keys, queue limits, and cancel reaching running steps. The
real engines are in tests/e2e/test_celery_executor.py and test_multiprocess_executor.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import weir as dg
from weir._execution.events import EventType
from weir._execution.launcher import Handle, LaunchSpec, Observation, Phase, launch_key
from weir._execution.parallel import ParallelPlanExecution
from weir._execution.plan import ExecutionPlan
from weir._execution.step import RunScope


class InlineLauncher:
    """Runs nothing: reports each attempt as the test scripts it (lost, or succeeded)."""

    engine = "inline"

    def __init__(self, lose: Mapping[str, int] | None = None):
        self.lose = dict(lose or {})  # step -> how many of its attempts are lost
        self.launched: list[LaunchSpec] = []
        self.terminated: list[str] = []
        self.in_flight: list[int] = []
        self.queues: list[str | None] = []

    def launch(self, spec: LaunchSpec) -> Handle:
        self.launched.append(spec)
        return Handle(self.engine, spec)

    def observe(self, handles: Sequence[Handle]) -> Mapping[str, Observation]:
        self.in_flight.append(len(handles))
        news = {}
        for handle in handles[:1]:  # one attempt ends per poll: the others stay in flight
            step = handle.spec.step_key
            if handle.launch_key in self.terminated:
                news[handle.launch_key] = Observation(Phase.CANCELED)
            elif self.lose.get(step, 0) >= handle.spec.attempt:
                news[handle.launch_key] = Observation(Phase.LOST, reason="no heartbeat for 1 s")
            else:
                news[handle.launch_key] = Observation(Phase.SUCCEEDED, started=True)
        return news

    def terminate(self, handle: Handle, grace: float) -> None:
        self.terminated.append(handle.launch_key)

    def close(self) -> None:
        pass


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def flaky() -> int:
    return 1


@dg.asset
def fragile() -> int:
    return 1


@dg.asset(op_tags={"weir-celery/queue": "gpu"})
def gpu_a() -> int:
    return 1


@dg.asset(op_tags={"weir-celery/queue": "gpu"})
def gpu_b() -> int:
    return 1


@dg.asset(op_tags={"weir-celery/queue": "gpu"})
def gpu_c() -> int:
    return 1


def _execute(
    assets: list, launcher: InlineLauncher, **options
) -> tuple[ParallelPlanExecution, list]:
    defs = dg.Definitions(assets=assets)
    graph = defs.get_asset_graph()
    plan = ExecutionPlan.build(graph, set(graph.all_asset_keys))
    events: list = []
    run = RunScope(run_id="run-1", partition_key=None, resources={}, configs={}, emit=events.append)
    execution = ParallelPlanExecution(plan, run, launcher, 100, **options)
    execution.execute()
    return execution, events


def test_a_lost_attempt_is_retried_by_its_policy_as_a_new_attempt_else_fails() -> None:
    launcher = InlineLauncher(lose={"flaky": 1, "fragile": 1})
    execution, events = _execute([flaky, fragile], launcher)
    attempts = [(s.step_key, s.attempt, s.launch_key) for s in launcher.launched]
    assert ("flaky", 2, launch_key("run-1", "flaky", 2)) in attempts
    assert launch_key("run-1", "flaky", 1) != launch_key("run-1", "flaky", 2)
    assert [a for a in attempts if a[0] == "fragile"] == [
        ("fragile", 1, launch_key("run-1", "fragile", 1))
    ]
    assert execution.failed_steps == ["fragile"]
    failures = [e for e in events if e.event_type is EventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == ["fragile"]
    assert "no heartbeat for 1 s" in failures[0].message
    retries = [e for e in events if e.event_type is EventType.STEP_UP_FOR_RETRY]
    assert [e.step_key for e in retries] == ["flaky"]


def test_a_queue_limit_caps_its_steps_in_flight() -> None:
    launcher = InlineLauncher()
    execution, _ = _execute(
        [gpu_a, gpu_b, gpu_c, fragile],
        launcher,
        queue_of=lambda step: step.definition.op_tags.get("weir-celery/queue", "weir"),
        queue_limits={"gpu": 1},
    )
    assert not execution.failed_steps
    assert {s.queue for s in launcher.launched} == {"gpu", "weir"}
    # Never two gpu steps at once: with the default-queue step, at most two in flight.
    assert max(launcher.in_flight) <= 2


def test_a_cancel_terminates_the_running_attempts_and_starts_nothing_more() -> None:
    launcher = InlineLauncher()
    polls = iter([False, True])
    execution, _ = _execute(
        [gpu_a, gpu_b, gpu_c], launcher, should_stop=lambda: next(polls, True), cancel_grace=0.5
    )
    assert execution.canceled
    assert launcher.terminated  # the attempts in flight were asked to stop
    assert not execution.failed_steps
