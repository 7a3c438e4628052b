"""Sensors and schedules for the daemon tests: each sensor ticks every second."""

import os
import time

import weir as dg

RUNNING = dg.DefaultSensorStatus.RUNNING


@dg.asset
def raw() -> int:
    return 1


@dg.asset(deps=[raw])
def downstream() -> int:
    return 2


@dg.asset
def fragile() -> int:
    raise RuntimeError("fragile broke")


regions = dg.DynamicPartitionsDefinition(name="regions")


@dg.asset(partitions_def=regions)
def regional() -> int:
    return 3


refresh = dg.define_asset_job("refresh", selection="raw")
by_region = dg.define_asset_job("by_region", selection="regional")
follow = dg.define_asset_job("follow", selection="downstream")
breaking = dg.define_asset_job("breaking", selection="fragile")


@dg.sensor(job=refresh, minimum_interval_seconds=1, default_status=RUNNING)
def batches(context):
    """Emits batch-1, batch-2, batch-3 from its cursor, one a tick, then nothing."""
    done = int(context.cursor or 0)
    if done >= 3:
        return dg.SkipReason("all three batches launched")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"batch-{done + 1}")], cursor=str(done + 1)
    )


@dg.sensor(job=refresh, minimum_interval_seconds=1, default_status=RUNNING)
def same_key(context):
    return dg.RunRequest(run_key="only-once")


@dg.sensor(job=refresh, minimum_interval_seconds=1, default_status=RUNNING)
def raising(context):
    raise ValueError("sensor exploded")


@dg.sensor(job=refresh, minimum_interval_seconds=1, default_status=RUNNING)
def counter(context):
    """A new run key every tick: two replicas evaluating one tick would show twice. The
    tag says which code server (so which control plane) evaluated it."""
    seen = int(context.cursor or 0)
    request = dg.RunRequest(run_key=f"tick-{seen}", tags={"evaluated_by": str(os.getpid())})
    return dg.SensorResult(run_requests=[request], cursor=str(seen + 1))


@dg.sensor(job=by_region, minimum_interval_seconds=1, default_status=RUNNING)
def new_regions(context):
    """Adds region-0 and region-1, one a tick, each with a run of its new partition."""
    seen = int(context.cursor or 0)
    if seen >= 2:
        return dg.SkipReason("no new region")
    region = f"region-{seen}"
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=region, partition_key=region)],
        cursor=str(seen + 1),
        dynamic_partitions_requests=[regions.build_add_request([region])],
    )


@dg.sensor(job=refresh, minimum_interval_seconds=1, default_status=RUNNING)
def unknown_asset(context):
    return dg.RunRequest(run_key="never", asset_selection=[dg.AssetKey("nope")])


@dg.sensor(job=refresh, minimum_interval_seconds=1)
def slow(context):
    """Stopped until a test starts it: takes longer than the control plane allows."""
    time.sleep(5)
    return dg.SkipReason("too late")


@dg.asset_sensor(asset_key="raw", job=follow, minimum_interval_seconds=1, default_status=RUNNING)
def on_raw(context, asset_event):
    return dg.RunRequest(run_key=f"after-{asset_event.storage_id}")


@dg.run_failure_sensor(
    monitored_jobs=[breaking], request_job=refresh, minimum_interval_seconds=1,
    default_status=RUNNING,
)  # fmt: skip
def on_failure(context):
    failed = context.dagster_run.run_id
    return dg.RunRequest(run_key=f"after-{failed}", tags={"failed_run": failed})


defs = dg.Definitions(
    assets=[raw, downstream, fragile, regional],
    jobs=[refresh, follow, breaking, by_region],
    sensors=[
        batches,
        same_key,
        raising,
        counter,
        new_regions,
        unknown_asset,
        slow,
        on_raw,
        on_failure,
    ],
)
