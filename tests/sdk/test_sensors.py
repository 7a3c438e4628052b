"""Sensors: cursors, results, targets, and the asset and run-status sensors."""

import doctest

import pytest
import weir as dg
from weir._automation import asset_sensors, run_request, run_status_sensors, sensors
from weir._automation.asset_sensors import AssetEventRecord
from weir._automation.run_status_sensors import (
    RunInfo,
    RunStatusChange,
    build_run_status_sensor_context,
)


@dg.asset
def orders():
    return 1


@dg.asset
def report(orders):
    return orders


INGEST = dg.define_asset_job("ingest", "orders")
REPORTS = dg.define_asset_job("reports", "report")


@dg.sensor(job=INGEST)
def new_files(context):
    """Request one run per new file, counting files in the cursor."""
    seen = int(context.cursor or 0)
    if seen >= 3:
        return dg.SkipReason("no new files")
    context.update_cursor(str(seen + 1))
    return dg.RunRequest(run_key=f"file-{seen + 1}")


# ---- ticks and cursors ----------------------------------------------------------------


def test_tick_reads_and_advances_the_cursor():
    context = dg.build_sensor_context(cursor="1")
    result = new_files.evaluate_tick(context)

    assert result.run_requests == [dg.RunRequest(run_key="file-2", job_name="ingest")]
    assert result.cursor == "2"
    assert context.cursor == "1"  # the caller's context is left as it was


def test_first_tick_has_no_cursor_and_unchanged_cursor_is_returned():
    assert new_files.evaluate_tick(dg.build_sensor_context()).cursor == "1"

    result = new_files.evaluate_tick(dg.build_sensor_context(cursor="3"))
    assert result.run_requests == []
    assert result.skip_message == "no new files"
    assert result.cursor == "3"


def test_calling_the_sensor_directly_updates_the_given_context():
    context = dg.build_sensor_context(cursor="0")

    assert new_files(context) == dg.RunRequest(run_key="file-1")
    assert context.cursor == "1"
    assert new_files() == dg.RunRequest(run_key="file-1")  # a fresh context when none is given


def test_sensor_result_sets_cursor_and_dynamic_partitions():
    @dg.sensor(job=INGEST)
    def files(context):
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key="a.csv", partition_key="a.csv")],
            cursor="a.csv",
            dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest("files", ["a.csv"])],
        )

    result = files.evaluate_tick(dg.build_sensor_context())
    assert result.cursor == "a.csv"
    assert result.run_requests[0].partition_key == "a.csv"
    assert result.run_requests[0].job_name == "ingest"
    assert result.dynamic_partitions_requests == [
        dg.AddDynamicPartitionsRequest("files", ("a.csv",))
    ]


def test_sensor_result_with_a_skip_reason_skips():
    @dg.sensor(job=INGEST)
    def idle(context):
        return dg.SensorResult(skip_reason="bucket empty", cursor="x")

    result = idle.evaluate_tick(dg.build_sensor_context())
    assert result.skip_message == "bucket empty" and result.cursor == "x"


def test_setting_the_cursor_two_ways_is_an_error():
    @dg.sensor(job=INGEST)
    def twice(context):
        context.update_cursor("a")
        return dg.SensorResult(cursor="b")

    with pytest.raises(dg.TickEvaluationError, match="set the cursor one way"):
        twice.evaluate_tick(dg.build_sensor_context())


def test_sensor_result_validates_its_fields():
    with pytest.raises(dg.DefinitionError, match="both run_requests and a skip_reason"):
        dg.SensorResult(run_requests=[dg.RunRequest()], skip_reason="no")
    with pytest.raises(dg.DefinitionError, match="cursor must be a string"):
        dg.SensorResult(cursor=5)
    with pytest.raises(dg.DefinitionError, match="must be RunRequest"):
        dg.SensorResult(run_requests=["orders"])
    with pytest.raises(dg.DefinitionError, match="cursor is a string"):
        dg.build_sensor_context(cursor=3)


def test_yielded_requests_and_a_run_config_dict():
    @dg.sensor(job=INGEST)
    def many(context):
        for name in ("a", "b"):
            yield dg.RunRequest(run_key=name)

    assert [r.run_key for r in many.evaluate_tick(dg.build_sensor_context()).run_requests] == [
        "a",
        "b",
    ]

    @dg.sensor(job=INGEST)
    def config_only(context):
        return {"ops": {}}

    with pytest.raises(dg.TickEvaluationError, match="returned dict"):
        config_only.evaluate_tick(dg.build_sensor_context())


def test_an_exception_in_the_sensor_names_it_and_keeps_the_cause():
    @dg.sensor(job=INGEST)
    def broken(context):
        raise ConnectionError("s3 unreachable")

    with pytest.raises(dg.TickEvaluationError, match="'broken' raised ConnectionError") as err:
        broken.evaluate_tick(dg.build_sensor_context())
    assert isinstance(err.value.__cause__, ConnectionError)


def test_sensor_receives_resources_by_parameter_name():
    class Bucket(dg.ConfigurableResource):
        files: list[str]

    @dg.sensor(job=INGEST)
    def listing(context, bucket: Bucket):
        return [dg.RunRequest(run_key=f) for f in bucket.files]

    context = dg.build_sensor_context(resources={"bucket": Bucket(files=["a", "b"])})
    assert len(listing.evaluate_tick(context).run_requests) == 2
    assert listing.required_resource_keys == {"bucket"}


# ---- targets --------------------------------------------------------------------------


def test_sensor_over_several_jobs_needs_job_name_on_requests():
    @dg.sensor(jobs=[INGEST, REPORTS])
    def router(context):
        return [dg.RunRequest(job_name="reports"), dg.RunRequest(job_name="ingest")]

    result = router.evaluate_tick(dg.build_sensor_context())
    assert [r.job_name for r in result.run_requests] == ["reports", "ingest"]
    assert router.job_name is None and router.job_names == ["ingest", "reports"]

    @dg.sensor(jobs=[INGEST, REPORTS])
    def vague(context):
        return dg.RunRequest()

    with pytest.raises(dg.TickEvaluationError, match=r"several jobs \(ingest, reports\)"):
        vague.evaluate_tick(dg.build_sensor_context())


def test_request_for_a_job_the_sensor_does_not_target_is_an_error():
    @dg.sensor(job=INGEST)
    def stray(context):
        return dg.RunRequest(job_name="reports")

    with pytest.raises(dg.TickEvaluationError, match="job 'reports', which it does not target"):
        stray.evaluate_tick(dg.build_sensor_context())


def test_sensor_without_target_cannot_request_runs():
    @dg.sensor
    def observer(context):
        return dg.RunRequest()

    assert observer.name == "observer" and observer.jobs == []
    with pytest.raises(dg.TickEvaluationError, match="targets no job"):
        observer.evaluate_tick(dg.build_sensor_context())


def test_sensor_settings_and_their_validation():
    assert new_files.minimum_interval_seconds == 30
    assert new_files.default_status is dg.DefaultSensorStatus.STOPPED
    assert new_files.description.startswith("Request one run per new file")

    @dg.sensor(
        job=INGEST, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING
    )
    def slow(context):
        return None

    assert slow.minimum_interval_seconds == 300
    assert slow.default_status is dg.DefaultSensorStatus.RUNNING

    def noop(context):
        return None

    with pytest.raises(dg.DefinitionError, match="minimum_interval_seconds must be"):
        dg.sensor(job=INGEST, minimum_interval_seconds=0)(noop)
    with pytest.raises(dg.DefinitionError, match="sets job and jobs"):
        dg.sensor(job=INGEST, jobs=[REPORTS])(noop)
    with pytest.raises(dg.DefinitionError, match=r"should take \(context\)"):

        @dg.sensor(job=INGEST)
        def extra_param(context, extra):
            return None


def test_definitions_registers_sensor_jobs_and_rejects_unknown_job_names():
    defs = dg.Definitions(assets=[orders, report], sensors=[new_files])
    assert defs.get_sensor_def("new_files") is new_files
    assert defs.jobs["ingest"] is INGEST

    @dg.sensor(job_name="nope")
    def lost(context):
        return None

    with pytest.raises(dg.DefinitionError, match="Sensor 'lost' targets job 'nope'"):
        dg.Definitions(assets=[orders], sensors=[lost])


# ---- asset sensors --------------------------------------------------------------------


def event(key, storage_id, **kwargs):
    return AssetEventRecord(asset_key=dg.AssetKey(key), storage_id=storage_id, **kwargs)


@dg.asset_sensor(asset_key="orders", job=REPORTS)
def orders_updated(context, asset_event):
    return dg.RunRequest(run_key=f"orders-{asset_event.storage_id}")


def test_asset_sensor_handles_the_newest_materialization_after_its_cursor():
    context = dg.build_sensor_context(
        cursor="5",
        asset_events=[event("orders", 4), event("orders", 9), event("orders", 7), event("x", 12)],
    )
    result = orders_updated.evaluate_tick(context)

    assert result.run_requests == [dg.RunRequest(run_key="orders-9", job_name="reports")]
    assert result.cursor == "9"
    assert orders_updated.asset_key == dg.AssetKey("orders")


def test_asset_sensor_skips_when_nothing_new():
    context = dg.build_sensor_context(cursor="9", asset_events=[event("orders", 9)])
    result = orders_updated.evaluate_tick(context)

    assert result.run_requests == []
    assert result.skip_message == "No new materialization of 'orders'"
    assert result.cursor == "9"


def test_asset_sensor_rejects_a_cursor_that_is_not_a_storage_id():
    with pytest.raises(dg.TickEvaluationError, match="not a storage id"):
        orders_updated.evaluate_tick(dg.build_sensor_context(cursor="yesterday"))


def test_asset_sensor_called_directly_with_an_event():
    request = orders_updated(dg.build_sensor_context(), event("orders", 3, partition_key="eu"))
    assert request == dg.RunRequest(run_key="orders-3")


# ---- run-status sensors ---------------------------------------------------------------


def change(run_id, job, status, storage_id, message=None):
    return RunStatusChange(
        run=RunInfo(run_id=run_id, job_name=job, status=status),
        storage_id=storage_id,
        message=message,
    )


@dg.run_status_sensor(run_status=dg.RunStatus.SUCCESS, monitored_jobs=[INGEST], request_job=REPORTS)
def ingest_succeeded(context):
    return dg.RunRequest(run_key=context.dagster_run.run_id)


def test_run_status_sensor_reacts_to_each_matching_run_and_moves_its_cursor():
    context = dg.build_sensor_context(
        cursor="1",
        run_status_changes=[
            change("r0", "ingest", dg.RunStatus.SUCCESS, 1),  # before the cursor
            change("r1", "ingest", dg.RunStatus.SUCCESS, 2),
            change("r2", "reports", dg.RunStatus.SUCCESS, 3),  # not monitored
            change("r3", "ingest", dg.RunStatus.FAILURE, 4),  # other status
            change("r4", "ingest", dg.RunStatus.SUCCESS, 5),
            change("r5", "ingest", dg.RunStatus.STARTED, 6),
        ],
    )
    result = ingest_succeeded.evaluate_tick(context)

    assert [r.run_key for r in result.run_requests] == ["r1", "r4"]
    assert {r.job_name for r in result.run_requests} == {"reports"}
    assert result.cursor == "6"


def test_run_status_sensor_without_matching_runs_skips():
    context = dg.build_sensor_context(
        run_status_changes=[change("r1", "ingest", dg.RunStatus.FAILURE, 1)]
    )
    result = ingest_succeeded.evaluate_tick(context)

    assert result.run_requests == []
    assert result.skip_message == "No run reached SUCCESS since the last tick"
    assert result.cursor == "1"


def test_run_failure_sensor_reads_the_failure_message():
    seen = []

    @dg.run_failure_sensor
    def alert(context):
        seen.append(f"{context.dagster_run.job_name}: {context.failure_event.message}")

    context = dg.build_sensor_context(
        run_status_changes=[
            change("r1", "ingest", dg.RunStatus.FAILURE, 1, message="disk full"),
            change("r2", "ingest", dg.RunStatus.SUCCESS, 2),
        ]
    )
    result = alert.evaluate_tick(context)

    assert seen == ["ingest: disk full"]
    assert alert.run_status is dg.RunStatus.FAILURE
    assert result.run_requests == [] and result.cursor == "2"


def test_run_status_sensor_called_directly_with_a_built_context():
    run = RunInfo(run_id="r9", job_name="ingest", status=dg.RunStatus.SUCCESS)
    context = build_run_status_sensor_context("ingest_succeeded", dagster_run=run)

    assert ingest_succeeded(context) == dg.RunRequest(run_key="r9")


def test_unknown_run_status_is_a_definition_error():
    with pytest.raises(dg.DefinitionError, match="Unknown run status 'DONE'"):
        dg.run_status_sensor(run_status="DONE")(lambda context: None)


def test_docstring_examples_run():
    for module in (sensors, asset_sensors, run_status_sensors, run_request):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_a_sensor_context_finds_assets_by_tag():
    @dg.asset(tags={"tier": "gold", "team": "a"})
    def revenue() -> int:
        return 1

    @dg.asset(tags={"tier": "silver"})
    def costs() -> int:
        return 1

    @dg.asset(key_prefix="finance", tags={"tier": "gold"})
    def margin() -> int:
        return 1

    context = dg.build_sensor_context(definitions=dg.Definitions(assets=[revenue, costs, margin]))
    assert [k.to_user_string() for k in context.assets_with_tag("tier", "gold")] == [
        "finance/margin",
        "revenue",
    ]
    assert [k.to_user_string() for k in context.assets_with_tag("tier")] == [
        "costs",
        "finance/margin",
        "revenue",
    ]
    assert context.assets_with_tag("owner") == []
    with pytest.raises(dg.DefinitionError, match="no definitions to search"):
        dg.build_sensor_context().assets_with_tag("tier")
