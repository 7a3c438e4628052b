"""Testing sensors against an instance, as Dagster's sensor-testing guide does: build the
context with `build_sensor_context(instance=..., cursor=...)`, call the sensor, and check
what it asked for.
"""

from compat_target import dg

customers = dg.DynamicPartitionsDefinition(name="customers")


@dg.asset
def crm_export() -> int:
    return 1


@dg.asset(partitions_def=customers)
def customer_report(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


report_job = dg.define_asset_job("report_job", selection=[customer_report])
export_job = dg.define_asset_job("export_job", selection=[crm_export])


@dg.sensor(job=export_job)
def export_after_new_crm_run(context: dg.SensorEvaluationContext):
    """Requests a run each time crm_export has a materialization from a new run."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("crm_export"))
    if event is None:
        return dg.SkipReason("crm_export has never been materialized")
    if event.run_id == context.cursor:
        return dg.SkipReason("no new materialization")
    context.update_cursor(event.run_id)
    return dg.RunRequest(run_key=event.run_id)


@dg.sensor(job=report_job)
def new_customers(context: dg.SensorEvaluationContext):
    """Adds the customers it has not seen as partitions and requests a report for each."""
    known = set(context.instance.get_dynamic_partitions("customers"))
    incoming = ["acme", "globex", "initech"]
    added = [name for name in incoming if name not in known]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=name) for name in added],
        dynamic_partitions_requests=[customers.build_add_request(added)],
    )


@dg.sensor(job=export_job)
def external_loads(context: dg.SensorEvaluationContext):
    """Reports loads a vendor made, as materializations of the table they load."""
    return dg.SensorResult(
        asset_events=[
            dg.AssetMaterialization(asset_key="vendor_table", metadata={"rows": 40}),
        ]
    )


def test_a_sensor_skips_until_there_is_a_materialization():
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance)

    result = export_after_new_crm_run(context)

    assert isinstance(result, dg.SkipReason)


def test_a_sensor_requests_a_run_for_a_new_materialization_and_moves_its_cursor():
    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([crm_export], instance=instance)
    context = dg.build_sensor_context(instance=instance)

    result = export_after_new_crm_run(context)

    assert isinstance(result, dg.RunRequest)
    assert result.run_key == run.run_id
    assert context.cursor == run.run_id


def test_a_sensor_with_the_cursor_of_the_last_run_skips():
    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([crm_export], instance=instance)
    context = dg.build_sensor_context(instance=instance, cursor=run.run_id)

    assert isinstance(export_after_new_crm_run(context), dg.SkipReason)


def test_the_instance_and_cursor_may_be_given_by_position():
    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([crm_export], instance=instance)
    context = dg.build_sensor_context(instance, run.run_id)

    assert context.cursor == run.run_id
    assert isinstance(export_after_new_crm_run(context), dg.SkipReason)


def test_a_sensor_adds_dynamic_partitions_the_instance_lacks():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("customers", ["acme"])

    result = new_customers(dg.build_sensor_context(instance=instance))

    assert [request.partition_key for request in result.run_requests] == ["globex", "initech"]
    (change,) = result.dynamic_partitions_requests
    assert change.partitions_def_name == "customers"
    assert list(change.partition_keys) == ["globex", "initech"]


def test_the_partitions_a_sensor_added_can_then_be_materialized():
    instance = dg.DagsterInstance.ephemeral()
    result = new_customers(dg.build_sensor_context(instance=instance))
    (change,) = result.dynamic_partitions_requests
    instance.add_dynamic_partitions(change.partitions_def_name, change.partition_keys)

    run = dg.materialize([customer_report], partition_key="globex", instance=instance)

    assert run.output_for_node("customer_report") == "globex"


def test_a_sensor_reports_asset_events():
    result = external_loads(dg.build_sensor_context())

    (event,) = result.asset_events
    assert event.asset_key == dg.AssetKey("vendor_table")
    assert event.metadata["rows"].value == 40


def test_reported_asset_events_are_recorded_once_given_to_the_instance():
    instance = dg.DagsterInstance.ephemeral()
    result = external_loads(dg.build_sensor_context(instance=instance))

    for event in result.asset_events:
        instance.report_runless_asset_event(event)

    event = instance.get_latest_materialization_event(dg.AssetKey("vendor_table"))
    assert event.asset_materialization.metadata["rows"].value == 40
