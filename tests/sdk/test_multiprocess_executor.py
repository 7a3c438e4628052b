"""The multiprocess executor through weir.materialize: steps in child processes, independent
steps in parallel (proved by the steps' own start and end events), `max_concurrent`
respected, a failure skipping only what is downstream of it."""

from __future__ import annotations

import os
import time

import pytest
import weir as dg

NAP = 0.3  # long enough that steps run one after another could never overlap


def _napping(name: str, deps: tuple[str, ...] = ()) -> dg.AssetsDefinition:
    @dg.asset(name=name, deps=list(deps))
    def nap() -> int:
        time.sleep(NAP)
        return os.getpid()

    return nap


def _windows(result: dg.ExecuteInProcessResult) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) as its own events give them."""
    starts, ends = {}, {}
    for event in result.all_node_events:
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = event.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[event.step_key] = event.timestamp
    return {step: (starts[step], ends[step]) for step in ends}


def _most_at_once(windows: dict[str, tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in windows.values()] + [(e, -1) for _, e in windows.values()])
    running = most = 0
    for _, change in edges:  # an end sorts before a start at the same instant
        running += change
        most = max(most, running)
    return most


def test_independent_steps_run_at_the_same_time_in_processes_of_their_own():
    left, right = _napping("left"), _napping("right")

    @dg.asset
    def both(left: int, right: int) -> tuple[int, int]:
        return left, right

    executor = dg.multiprocess_executor.configured({"max_concurrent": 2})
    result = dg.materialize([left, right, both], executor=executor)

    assert result.success
    windows = _windows(result)
    (left_start, left_end), (right_start, right_end) = windows["left"], windows["right"]
    assert left_start < right_end and right_start < left_end, f"no overlap: {windows}"
    assert windows["both"][0] >= max(left_end, right_end), "a step started before its inputs"
    pids = result.output_for_node("both")
    assert result.asset_value("left") == pids[0]
    assert len({*pids, os.getpid()}) == 3, "each step runs in a child process of its own"


def test_at_most_max_concurrent_steps_run_at_once():
    steps = [_napping(f"nap_{n}") for n in range(4)]
    executor = dg.multiprocess_executor.configured({"max_concurrent": 2})
    result = dg.materialize(steps, executor=executor)

    assert result.success
    assert _most_at_once(_windows(result)) == 2


def test_each_steps_events_keep_their_order():
    steps = [_napping(f"nap_{n}") for n in range(3)]
    result = dg.materialize(steps, executor=dg.multiprocess_executor)
    kinds = [e.event_type_value for e in result.all_events]
    assert kinds[0] == "RUN_START" and kinds[-1] == "RUN_SUCCESS"
    for step in ("nap_0", "nap_1", "nap_2"):
        own = [e.event_type_value for e in result.all_events if e.step_key == step]
        assert own == ["STEP_START", "ASSET_MATERIALIZATION", "STEP_SUCCESS"]


def test_a_failed_step_skips_its_downstream_steps_only():
    @dg.asset
    def feed() -> dict[str, int]:
        raise ValueError("the feed is down")

    downstream = dg.asset(name="downstream", deps=["feed"])(lambda: 1)
    healthy = _napping("healthy")

    @dg.asset
    def after_healthy(healthy: int) -> int:
        return healthy

    result = dg.materialize(
        [feed, downstream, healthy, after_healthy],
        executor=dg.multiprocess_executor.configured({"max_concurrent": 3}),
        raise_on_error=False,
    )

    assert not result.success
    assert result.get_failed_step_keys() == {"feed"}
    assert {e.step_key for e in result.get_step_skipped_events()} == {"downstream"}
    assert result.output_for_node("after_healthy") == result.output_for_node("healthy")
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.error.cls_name == "ValueError" and failure.error.message == "the feed is down"


def test_raise_on_error_raises_the_steps_own_exception():
    @dg.asset
    def broken() -> int:
        raise KeyError("missing column")

    with pytest.raises(KeyError, match="missing column"):
        dg.materialize([broken], executor=dg.multiprocess_executor)


def test_a_step_process_that_dies_fails_its_step_with_the_exit_code():
    @dg.asset
    def dies() -> int:
        os._exit(7)

    @dg.asset
    def after(dies: int) -> int:
        return dies

    result = dg.materialize([dies, after], executor=dg.multiprocess_executor, raise_on_error=False)

    assert result.get_failed_step_keys() == {"dies"}
    assert {e.step_key for e in result.get_step_skipped_events()} == {"after"}
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert "exited with code 7" in error.message


@pytest.mark.parametrize("in_memory", [dg.InMemoryIOManager(), dg.mem_io_manager])
def test_values_cannot_pass_between_processes_through_memory(in_memory):
    with pytest.raises(dg.DefinitionError, match="FilesystemIOManager"):
        dg.materialize(
            [_napping("one")],
            executor=dg.multiprocess_executor,
            resources={"io_manager": in_memory},
        )


def test_executor_settings_are_checked_where_they_are_written():
    with pytest.raises(dg.DefinitionError, match=r"no setting 'max_concurent'.*max_concurrent"):
        dg.multiprocess_executor.configured({"max_concurent": 2})
    with pytest.raises(dg.DefinitionError, match="whole number of steps"):
        dg.multiprocess_executor.configured({"max_concurrent": -1})
    with pytest.raises(dg.DefinitionError, match="no setting 'max_concurrent'"):
        dg.in_process_executor.configured({"max_concurrent": 2})
    with pytest.raises(dg.DefinitionError, match=r"Definitions\(executor=\.\.\.\)"):
        dg.Definitions(executor="multiprocess")
    assert dg.multiprocess_executor.configured({"max_concurrent": 0}).max_concurrent == (
        os.cpu_count() or 1
    )
    assert dg.Definitions().executor == dg.in_process_executor


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("cannot pickle this exception")


def test_an_exception_that_cannot_cross_processes_is_raised_with_its_text():
    @dg.asset
    def odd() -> int:
        raise _Unpicklable("odd failure")

    with pytest.raises(dg.StepError, match="odd failed: _Unpicklable: odd failure"):
        dg.materialize([odd], executor=dg.multiprocess_executor)
