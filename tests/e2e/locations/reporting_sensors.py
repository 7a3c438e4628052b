"""Sensors that report materializations of assets computed elsewhere (SensorResult's
asset_events), for tests/e2e/test_reported_materializations.py; each ticks every second."""

import weir as dg

RUNNING = dg.DefaultSensorStatus.RUNNING


@dg.asset
def warehouse_table() -> int:
    return 0


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
def regional_export() -> int:
    return 0


@dg.asset(deps=[warehouse_table])
def table_report() -> int:
    return 1


report = dg.define_asset_job("report", selection="table_report")


@dg.sensor(minimum_interval_seconds=1, default_status=RUNNING)
def table_watcher(context):
    """Reports the warehouse table and one export partition once, on its second tick (when
    on_success watches already), then nothing new."""
    if context.cursor is None:
        return dg.SensorResult(skip_reason="warming up", cursor="ready")
    if context.cursor == "reported":
        return dg.SkipReason("nothing new in the warehouse")
    return dg.SensorResult(
        asset_events=[
            dg.AssetMaterialization("warehouse_table", metadata={"rows": 42}),
            dg.AssetMaterialization("regional_export", partition="eu"),
        ],
        cursor="reported",
    )


@dg.asset_sensor(
    asset_key="warehouse_table", job=report, minimum_interval_seconds=1, default_status=RUNNING
)
def on_table(context, asset_event):
    return dg.RunRequest(run_key=f"after-{asset_event.storage_id}")


@dg.run_status_sensor(
    run_status=dg.RunStatus.SUCCESS, minimum_interval_seconds=1, default_status=RUNNING
)
def on_success(context):
    """Says which successful run it saw, in its tick's skip reason."""
    return dg.SkipReason(f"saw {context.dagster_run.run_id}")


@dg.sensor(minimum_interval_seconds=1, default_status=RUNNING)
def unknown_reported(context):
    return dg.SensorResult(asset_events=[dg.AssetMaterialization("nope")])


@dg.sensor(minimum_interval_seconds=1, default_status=RUNNING)
def bad_partition_reported(context):
    return dg.SensorResult(
        asset_events=[
            dg.AssetMaterialization("warehouse_table"),
            dg.AssetMaterialization("regional_export", partition="mars"),
        ]
    )


defs = dg.Definitions(
    assets=[warehouse_table, regional_export, table_report],
    jobs=[report],
    sensors=[table_watcher, on_table, on_success, unknown_reported, bad_partition_reported],
)
