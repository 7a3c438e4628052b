"""Op graphs: wiring mistakes are caught where the graph is declared, with what to fix."""

import pytest
import weir as dg


@dg.op
def one() -> int:
    return 1


@dg.op
def double(n: int) -> int:
    return n * 2


@dg.op(out={"low": dg.Out(), "high": dg.Out()})
def bounds():
    return 1, 9


def test_a_constant_passed_as_an_input_in_a_graph_body_is_refused():
    with pytest.raises(dg.DefinitionError, match=r"input 'n' got 3.*constants go in config"):

        @dg.job
        def constant_job():
            double(3)


def test_an_op_called_without_its_inputs_is_refused():
    with pytest.raises(dg.DefinitionError, match=r"op 'double' is called without inputs \['n'\]"):

        @dg.graph
        def missing_input():
            double()


def test_a_job_that_returns_an_output_is_refused():
    with pytest.raises(dg.DefinitionError, match="a job has no outputs"):

        @dg.job
        def returning_job():
            return one()


def test_a_job_with_parameters_is_refused():
    with pytest.raises(dg.DefinitionError, match="a job has no inputs"):

        @dg.job
        def job_with_input(n):
            double(n)


def test_a_graph_runs_only_as_a_job():
    @dg.graph
    def doubled():
        double(one())

    with pytest.raises(dg.DefinitionError, match=r"graph.to_job\(\).execute_in_process\(\)"):
        doubled()
    assert doubled.to_job().execute_in_process().output_for_node("double") == 2


def test_an_op_returning_the_wrong_number_of_outputs_fails_its_step_saying_how_to_return():
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def two_outputs():
        return 1

    @dg.job
    def arity_job():
        two_outputs()

    result = arity_job.execute_in_process(raise_on_error=False)

    (failure,) = result.get_step_failure_events()
    assert "return a tuple with one value per output" in failure.step_failure_data.error.message


def test_an_optional_output_may_be_left_out_and_a_required_one_may_not():
    @dg.op(out={"rows": dg.Out(), "rejects": dg.Out(is_required=False)})
    def parse():
        yield dg.Output([1, 2], output_name="rows")

    @dg.op(out={"rows": dg.Out(), "rejects": dg.Out()})
    def strict_parse():
        yield dg.Output([1, 2], output_name="rows")

    @dg.job
    def parse_job():
        parse()
        strict_parse()

    result = parse_job.execute_in_process(raise_on_error=False)

    assert result.output_for_node("parse", "rows") == [1, 2]
    assert result.is_node_success("parse")
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "strict_parse"
    assert "did not produce required output(s) ['rejects']" in failure.message


def test_a_failed_op_skips_only_the_ops_downstream_of_it():
    @dg.op
    def broken() -> int:
        raise RuntimeError("no data")

    @dg.job
    def branches():
        double(broken())
        double(one())

    result = branches.execute_in_process(raise_on_error=False)

    assert result.is_node_skipped("double")
    assert result.output_for_node("double_2") == 2
    assert not result.success


def test_an_input_of_the_wrong_type_fails_the_step_naming_the_input():
    @dg.op
    def text() -> str:
        return "x"

    @dg.job
    def mistyped():
        double(text())

    result = mistyped.execute_in_process(raise_on_error=False)

    (failure,) = result.get_step_failure_events()
    assert "Input 'n' of op 'double'" in failure.step_failure_data.error.message


def test_a_job_missing_a_resource_names_it_and_where_to_bind_it():
    class Store(dg.ConfigurableResource):
        path: str = "/tmp"

    @dg.op
    def save(store: Store) -> str:
        return store.path

    @dg.job
    def save_job():
        save()

    with pytest.raises(dg.DefinitionError, match=r"needs resources \['store'\].*resource_defs"):
        save_job.execute_in_process()


def test_an_asset_job_outside_definitions_says_to_resolve_it_there():
    job = dg.define_asset_job("loose", selection="*")

    with pytest.raises(dg.DefinitionError, match=r"defs.get_job_def\('loose'\)"):
        job.execute_in_process()


def test_config_for_a_resource_the_run_does_not_bind_is_refused():
    @dg.job
    def plain():
        one()

    with pytest.raises(dg.ConfigError, match="resource 'db', which this run does not bind"):
        plain.execute_in_process(run_config={"resources": {"db": {"config": {}}}})


def test_nested_graph_config_is_read_under_the_graph_name():
    class Factor(dg.Config):
        by: int

    @dg.op
    def scale(config: Factor, n: int) -> int:
        return n * config.by

    @dg.graph
    def scaled(n):
        return scale(n)

    @dg.job
    def scaling_job():
        scaled(one())

    config = {"ops": {"scaled": {"ops": {"scale": {"config": {"by": 7}}}}}}
    assert scaling_job.execute_in_process(run_config=config).output_for_node("scaled.scale") == 7
    with pytest.raises(dg.ConfigError, match=r"ops \['scal'\] of graph 'scaled'"):
        scaling_job.execute_in_process(run_config={"ops": {"scaled": {"ops": {"scal": {}}}}})


def test_op_log_lines_are_events_of_the_run():
    @dg.op
    def chatty(context: dg.OpExecutionContext) -> None:
        context.log.info("loaded %d rows", 3)

    @dg.job
    def chatty_job():
        chatty()

    result = chatty_job.execute_in_process()
    logs = [e for e in result.all_events if e.event_type is dg.EventType.LOG]
    assert [(e.step_key, e.message) for e in logs] == [("chatty", "loaded 3 rows")]


def test_a_graph_asset_must_return_one_op_output():
    with pytest.raises(dg.DefinitionError, match="must return the output of one op"):

        @dg.graph_asset
        def nothing_returned():
            one()


def test_bad_config_of_a_graph_asset_op_names_the_path_under_the_asset():
    class Factor(dg.Config):
        by: int

    @dg.asset
    def base() -> int:
        return 2

    @dg.op
    def scale(config: Factor, n: int) -> int:
        return n * config.by

    @dg.graph_asset
    def scaled(base):
        return scale(base)

    with pytest.raises(dg.ConfigError, match=r"'scaled.scale' is invalid.*\{'scaled': \{'ops'"):
        dg.materialize([base, scaled])
    with pytest.raises(dg.ConfigError, match=r"ops \['scal'\] of graph 'scaled'"):
        dg.materialize([base, scaled], run_config={"ops": {"scaled": {"ops": {"scal": {}}}}})


def test_outputs_of_a_node_are_read_by_name_too():
    @dg.job
    def by_name():
        pair = bounds()
        double(pair.high)

    assert by_name.execute_in_process().output_for_node("double") == 18


def test_a_nested_graph_called_without_its_inputs_is_refused():
    @dg.graph
    def needs_n(n):
        double(n)

    with pytest.raises(dg.DefinitionError, match=r"Graph 'needs_n' takes inputs \['n'\]"):

        @dg.job
        def caller():
            needs_n()


def test_a_nothing_input_with_a_parameter_of_the_same_name_is_refused():
    with pytest.raises(
        dg.DefinitionError, match=r"In\(Nothing\) inputs \['after'\] carry no value"
    ):

        @dg.op(ins={"after": dg.In(dg.Nothing)})
        def waits(after):
            return after


def test_run_config_inputs_for_a_wired_input_say_which_inputs_are_unwired():
    @dg.op
    def one() -> int:
        return 1

    @dg.op
    def add(a: int, b: int = 5) -> int:
        return a + b

    @dg.job
    def adding():
        add(one())

    assert adding.execute_in_process().output_for_node("add") == 6
    config = {"ops": {"add": {"inputs": {"b": 7}}}}
    assert adding.execute_in_process(run_config=config).output_for_node("add") == 8
    with pytest.raises(
        dg.ConfigError, match=r"inputs \['a'\] of op 'add'.*unwired inputs are \['b'\]"
    ):
        adding.execute_in_process(run_config={"ops": {"add": {"inputs": {"a": 2}}}})
