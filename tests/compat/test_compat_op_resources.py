"""Resources in ops and jobs, bound by the job, by Definitions, or at launch by run config."""

from compat_target import dg


class Warehouse(dg.ConfigurableResource):
    schema_name: str = "public"

    def table(self, name: str) -> str:
        return f"{self.schema_name}.{name}"


@dg.op
def table_name(warehouse: Warehouse) -> str:
    return warehouse.table("orders")


@dg.op(required_resource_keys={"warehouse"})
def context_table_name(context: dg.OpExecutionContext) -> str:
    return context.resources.warehouse.table("users")


@dg.job
def naming_job():
    table_name()
    context_table_name()


def test_resources_are_passed_when_executing():
    result = naming_job.execute_in_process(resources={"warehouse": Warehouse(schema_name="dev")})
    assert result.output_for_node("table_name") == "dev.orders"
    assert result.output_for_node("context_table_name") == "dev.users"


@dg.job(resource_defs={"warehouse": Warehouse(schema_name="prod")})
def prod_naming_job():
    table_name()


def test_a_job_binds_its_own_resources():
    assert prod_naming_job.execute_in_process().output_for_node("table_name") == "prod.orders"


def test_a_graph_binds_resources_when_it_becomes_a_job():
    @dg.graph
    def naming():
        table_name()

    job = naming.to_job(resource_defs={"warehouse": Warehouse(schema_name="test")})
    assert job.execute_in_process().output_for_node("table_name") == "test.orders"


def test_definitions_resources_reach_an_op_job():
    defs = dg.Definitions(jobs=[naming_job], resources={"warehouse": Warehouse()})
    result = defs.get_job_def("naming_job").execute_in_process()
    assert result.output_for_node("table_name") == "public.orders"


def test_run_config_object_replaces_a_resource():
    result = naming_job.execute_in_process(
        resources={"warehouse": Warehouse()},
        run_config=dg.RunConfig(resources={"warehouse": Warehouse(schema_name="staging")}),
    )
    assert result.output_for_node("table_name") == "staging.orders"


def test_run_config_dict_sets_resource_fields():
    result = naming_job.execute_in_process(
        resources={"warehouse": Warehouse()},
        run_config={"resources": {"warehouse": {"config": {"schema_name": "scratch"}}}},
    )
    assert result.output_for_node("context_table_name") == "scratch.users"
