"""Ops, graphs and jobs, as Dagster's guides on ops and jobs and on testing teach them."""

import pytest
from compat_target import dg


@dg.op
def load_numbers() -> list[int]:
    return [4, 1, 6, 3]


@dg.op(out={"evens": dg.Out(), "odds": dg.Out()})
def split_numbers(numbers: list[int]):
    return [n for n in numbers if n % 2 == 0], [n for n in numbers if n % 2]


@dg.op(ins={"values": dg.In(description="numbers to add up")})
def add_up(values) -> int:
    return sum(values)


@dg.op
def difference(left: int, right: int) -> int:
    return left - right


@dg.job
def number_crunching():
    evens, odds = split_numbers(load_numbers())
    difference(add_up(evens), add_up(odds))


def test_a_job_of_ops_runs_in_process_and_each_output_is_readable():
    result = number_crunching.execute_in_process()

    assert result.success
    assert result.output_for_node("load_numbers") == [4, 1, 6, 3]
    assert result.output_for_node("split_numbers", "evens") == [4, 6]
    assert result.output_for_node("split_numbers", "odds") == [1, 3]
    # The same op used twice gets a second node name.
    assert result.output_for_node("add_up") == 10
    assert result.output_for_node("add_up_2") == 4
    assert result.output_for_node("difference") == 6


def test_ops_stay_plain_functions_for_unit_tests():
    assert split_numbers([1, 2, 3]) == ([2], [1, 3])
    assert difference(5, 2) == 3


class GreetingConfig(dg.Config):
    name: str
    punctuation: str = "!"


@dg.op
def greet(context: dg.OpExecutionContext, config: GreetingConfig) -> str:
    context.log.info(f"greeting {config.name}")
    return f"Hello, {config.name}{config.punctuation}"


@dg.op
def shout(context: dg.OpExecutionContext, greeting: str) -> str:
    return greeting.upper()


@dg.job
def greeting_job():
    shout(greet())


def test_op_config_comes_from_a_run_config_dict():
    result = greeting_job.execute_in_process(
        run_config={"ops": {"greet": {"config": {"name": "Ada"}}}}
    )
    assert result.success
    assert result.output_for_node("greet") == "Hello, Ada!"
    assert result.output_for_node("shout") == "HELLO, ADA!"


def test_op_config_comes_from_a_run_config_object():
    config = dg.RunConfig(ops={"greet": GreetingConfig(name="Grace", punctuation="?")})
    result = greeting_job.execute_in_process(run_config=config)
    assert result.output_for_node("shout") == "HELLO, GRACE?"


def test_context_op_config_is_the_config_as_a_dict():
    seen = []

    @dg.op
    def record(context: dg.OpExecutionContext, config: GreetingConfig) -> None:
        seen.append(context.op_config)

    @dg.job
    def record_job():
        record()

    record_job.execute_in_process(run_config={"ops": {"record": {"config": {"name": "Lin"}}}})
    assert seen == [{"name": "Lin", "punctuation": "!"}]


def test_config_of_the_wrong_type_is_refused_before_the_run():
    with pytest.raises(dg.DagsterInvalidConfigError):
        greeting_job.execute_in_process(run_config={"ops": {"greet": {"config": {"name": 3}}}})


def test_missing_required_config_is_refused():
    with pytest.raises(dg.DagsterInvalidConfigError):
        greeting_job.execute_in_process()


def test_config_for_an_op_the_job_does_not_have_is_refused():
    with pytest.raises(dg.DagsterInvalidConfigError):
        greeting_job.execute_in_process(
            run_config={"ops": {"greet": {"config": {"name": "A"}}, "wave": {"config": {}}}}
        )


@dg.op
def flaky_source() -> int:
    raise ValueError("the source is down")


@dg.op
def consume(value: int) -> int:
    return value + 1


@dg.job
def failing_job():
    consume(flaky_source())


def test_a_failing_op_raises_its_own_error_by_default():
    with pytest.raises(ValueError, match="the source is down"):
        failing_job.execute_in_process()


def test_a_failing_op_fails_the_run_without_raising_when_asked():
    result = failing_job.execute_in_process(raise_on_error=False)

    assert not result.success
    assert result.get_failed_step_keys() == {"flaky_source"}
    assert result.is_node_failed("flaky_source")
    assert not result.is_node_success("consume")
    failure = result.get_step_failure_events()[0]
    assert "the source is down" in failure.step_failure_data.error.to_string()
    assert result.get_run_failure_event().event_type_value in ("RUN_FAILURE", "PIPELINE_FAILURE")


def test_an_output_of_the_wrong_type_fails_the_step():
    @dg.op(out=dg.Out(int))
    def count_rows():
        return "three"

    @dg.job
    def typed_job():
        count_rows()

    result = typed_job.execute_in_process(raise_on_error=False)
    assert not result.success
    assert result.is_node_failed("count_rows")


def test_a_successful_run_has_a_success_event_and_step_events():
    result = number_crunching.execute_in_process()
    assert result.get_run_success_event().event_type_value in ("RUN_SUCCESS", "PIPELINE_SUCCESS")
    succeeded = {e.step_key for e in result.get_step_success_events()}
    assert succeeded == {"load_numbers", "split_numbers", "add_up", "add_up_2", "difference"}


@dg.op
def plus_one(n: int) -> int:
    return n + 1


@dg.op
def start() -> int:
    return 1


@dg.graph
def add_two(n):
    return plus_one.alias("second_plus_one")(plus_one(n))


@dg.job
def nested_job():
    add_two(start())


def test_graphs_nest_and_aliased_ops_keep_their_name():
    result = nested_job.execute_in_process()
    assert result.success
    assert result.output_for_node("add_two.plus_one") == 2
    assert result.output_for_node("add_two.second_plus_one") == 3


@dg.graph
def pipeline():
    shout(greet())


def test_a_graph_becomes_a_job_with_its_own_config():
    job = pipeline.to_job(
        name="configured_pipeline",
        config={"ops": {"greet": {"config": {"name": "Kay"}}}},
    )
    assert job.name == "configured_pipeline"
    result = job.execute_in_process()
    assert result.output_for_node("shout") == "HELLO, KAY!"


@dg.op
def write_table():
    yield dg.AssetMaterialization(asset_key="report_table", metadata={"rows": 3})
    yield dg.Output(3)


@dg.job
def reporting_job():
    write_table()


def test_an_op_reports_a_materialization_it_made():
    result = reporting_job.execute_in_process()
    (materialization,) = result.asset_materializations_for_node("write_table")
    assert materialization.asset_key == dg.AssetKey("report_table")
    assert materialization.metadata["rows"].value == 3
    assert result.output_for_node("write_table") == 3


class LimitConfig(dg.Config):
    limit: int = 2


@dg.op
def first_rows(context: dg.OpExecutionContext, config: LimitConfig, rows: list) -> list:
    context.log.info(f"keeping {config.limit} of {len(rows)} rows")
    return rows[: config.limit]


def test_an_op_is_unit_tested_with_a_built_context():
    context = dg.build_op_context()
    assert first_rows(context, LimitConfig(limit=1), [5, 6, 7]) == [5]


def test_a_built_op_context_carries_resources_and_config():
    @dg.op(required_resource_keys={"prefix"})
    def labelled(context: dg.OpExecutionContext) -> str:
        return f"{context.resources.prefix}-{context.op_config['suffix']}"

    context = dg.build_op_context(resources={"prefix": "run"}, op_config={"suffix": "a"})
    assert labelled(context) == "run-a"
