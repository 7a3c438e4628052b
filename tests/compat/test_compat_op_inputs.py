"""Op inputs as the ops and jobs guides use them: default values for inputs a job leaves
unwired, Nothing inputs that only order ops, and run config given as a plain dict for ops
and resources."""

from compat_target import dg

calls = []


class Warehouse(dg.ConfigurableResource):
    schema_name: str = "public"


@dg.op(ins={"limit": dg.In(int, default_value=3)})
def first_numbers(limit: int) -> list[int]:
    return list(range(limit))


@dg.op
def scale(numbers: list[int], factor: int = 10) -> list[int]:
    return [n * factor for n in numbers]


@dg.job
def numbers_job():
    scale(first_numbers())


def test_an_unwired_input_takes_its_default_value():
    result = numbers_job.execute_in_process()

    assert result.success
    assert result.output_for_node("first_numbers") == [0, 1, 2]
    assert result.output_for_node("scale") == [0, 10, 20]


@dg.op(out=dg.Out(dg.Nothing))
def create_table():
    calls.append("create_table")


@dg.op
def load_rows() -> None:
    calls.append("load_rows")


@dg.op(ins={"table_ready": dg.In(dg.Nothing)})
def insert_rows() -> int:
    calls.append("insert_rows")
    return 2


@dg.op(ins={"start": dg.In(dg.Nothing)})
def report(warehouse: Warehouse) -> str:
    calls.append("report")
    return f"{warehouse.schema_name}: done"


@dg.job(resource_defs={"warehouse": Warehouse()})
def table_job():
    report(start=[insert_rows(table_ready=create_table()), load_rows()])


def test_nothing_inputs_order_ops_without_passing_a_value():
    calls.clear()
    result = table_job.execute_in_process()

    assert result.success
    assert calls.index("create_table") < calls.index("insert_rows")
    assert calls[-1] == "report"
    assert result.output_for_node("report") == "public: done"


def test_an_op_after_a_failed_nothing_dependency_is_skipped():
    @dg.op
    def broken() -> None:
        raise RuntimeError("table locked")

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def downstream() -> None:
        calls.append("downstream")

    @dg.job
    def broken_job():
        downstream(after=broken())

    calls.clear()
    result = broken_job.execute_in_process(raise_on_error=False)

    assert not result.success
    assert calls == []
    assert not result.is_node_success("downstream")


def test_dict_run_config_sets_resource_and_op_config():
    result = table_job.execute_in_process(
        run_config={"resources": {"warehouse": {"config": {"schema_name": "analytics"}}}}
    )

    assert result.output_for_node("report") == "analytics: done"

    result = numbers_job.execute_in_process(
        run_config={"ops": {"first_numbers": {"inputs": {"limit": 2}}}}
    )
    assert result.output_for_node("scale") == [0, 10]
