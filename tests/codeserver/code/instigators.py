"""Schedules and sensors for the tick tests."""

import weir as dg

regions = dg.DynamicPartitionsDefinition(name="regions")


@dg.asset(tags={"tier": "gold"})
def orders() -> int:
    return 1


@dg.asset(partitions_def=regions)
def regional() -> int:
    return 1


refresh = dg.define_asset_job("refresh", selection="orders")
by_region = dg.define_asset_job("by_region", selection="regional")


@dg.schedule("0 6 * * *", job=refresh, execution_timezone="Europe/Paris", tags={"kind": "daily"})
def mornings(context):
    day = context.scheduled_execution_time.strftime("%Y-%m-%d %H:%M %Z")
    return dg.RunRequest(run_key=day, run_config={"ops": {}}, tags={"day": day})


@dg.schedule("0 * * * *", job=refresh)
def broken_schedule(context):
    raise RuntimeError("schedule exploded")


@dg.sensor(job=by_region)
def new_regions(context):
    seen = int(context.cursor or 0)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"r{seen}", partition_key=f"region-{seen}")],
        cursor=str(seen + 1),
        dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest("regions", [f"region-{seen}"])],
    )


@dg.sensor(job=refresh)
def broken_sensor(context):
    raise ValueError("sensor exploded")


@dg.asset_sensor(asset_key="orders", job=refresh)
def orders_changed(context, asset_event):
    return dg.RunRequest(run_key=f"orders-{asset_event.storage_id}-{asset_event.partition_key}")


@dg.run_failure_sensor(request_job=refresh)
def retry_failures(context):
    return dg.RunRequest(run_key=f"retry-{context.dagster_run.run_id}")


@dg.sensor(target="*")
def gold_tier(context):
    """Requests the assets tagged tier=gold, whichever they are."""
    return dg.RunRequest(run_key="gold", asset_selection=context.assets_with_tag("tier", "gold"))


@dg.sensor(job=refresh)
def reports_elsewhere(context):
    """Reports materializations made outside Weir, for the control plane to record."""
    return dg.SensorResult(
        asset_events=[
            dg.AssetMaterialization("orders", metadata={"rows": 3}, description="loaded by hand"),
            dg.AssetMaterialization("regional", partition="region-1"),
        ]
    )


@dg.sensor(job=refresh)
def reports_a_check(context):
    """Reports a check result, which a served sensor cannot yet."""
    return dg.SensorResult(
        asset_events=[dg.AssetCheckEvaluation(dg.AssetKey("orders"), "fresh", passed=True)]
    )


defs = dg.Definitions(
    assets=[orders, regional],
    jobs=[refresh, by_region],
    schedules=[mornings, broken_schedule],
    sensors=[
        new_regions,
        broken_sensor,
        orders_changed,
        retry_failures,
        gold_tier,
        reports_elsewhere,
        reports_a_check,
    ],
)
