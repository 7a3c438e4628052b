"""Schedules in New York time, across the fall-back change of 2026-11-01."""

import weir as dg

RUNNING = dg.DefaultScheduleStatus.RUNNING


@dg.asset
def report() -> int:
    return 1


refresh = dg.define_asset_job("refresh", selection="report")


@dg.schedule("30 1 * * *", job=refresh, execution_timezone="America/New_York",
             default_status=RUNNING)  # fmt: skip
def nightly(context):
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())


@dg.schedule("0 * * * *", job=refresh, execution_timezone="America/New_York",
             default_status=RUNNING)  # fmt: skip
def hourly(context):
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())


defs = dg.Definitions(assets=[report], jobs=[refresh], schedules=[nightly, hourly])
