"""Every SDK feature in one Dagster-style code location (`import weir as dg` is the only change
a Dagster user makes). `python examples/features/defs.py` exercises it in-process."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pydantic
import weir as dg

# --- resources and I/O ------------------------------------------------------------------


class Warehouse(dg.ConfigurableResource):
    """A resource: configured by fields, injected by annotated parameter."""

    schema_name: str = "analytics"

    def table(self, name: str) -> str:
        return f"{self.schema_name}.{name}"


class JsonLinesIOManager(dg.ConfigurableIOManager):
    """A custom I/O manager: one JSON file per asset (and partition)."""

    root: str

    def _path(self, context) -> Path:
        name = "/".join(context.asset_key.path)
        part = f"/{context.partition_key}" if context.partition_key else ""
        return Path(self.root) / f"{name}{part}.json"

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj))
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext):
        return json.loads(self._path(context).read_text())


# --- assets -------------------------------------------------------------------------------

raw_events = dg.AssetSpec("raw/events", description="Landed by an external loader")


class Order(pydantic.BaseModel):
    id: int
    amount: float


class OrdersConfig(dg.Config):
    minimum_amount: float = 0.0


@dg.asset(
    key_prefix="clean",
    group_name="sales",
    owners=["team:data"],
    tags={"tier": "gold"},
    kinds={"python"},
    code_version="1",
    deps=[raw_events],
    retry_policy=dg.RetryPolicy(max_retries=1),
    metadata={"docs": dg.MetadataValue.url("https://example.com/orders")},
)
def orders(context: dg.AssetExecutionContext, config: OrdersConfig) -> list[Order]:
    """Orders above the configured minimum."""
    rows = [Order(id=1, amount=30.0), Order(id=2, amount=12.5), Order(id=3, amount=0.5)]
    kept = [o for o in rows if o.amount >= config.minimum_amount]
    context.log.info(f"kept {len(kept)} of {len(rows)} orders")
    context.add_output_metadata({"rows": len(kept)})
    return kept


@dg.asset_check(asset=orders, blocking=True, description="every order has an id")
def orders_have_ids(orders: list[Order]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(o.id for o in orders), metadata={"n": len(orders)})


@dg.asset(group_name="sales", ins={"clean_orders": dg.AssetIn(key=["clean", "orders"])})
def revenue(clean_orders: list[Order], warehouse: Warehouse) -> dg.Output[float]:
    total = sum(o.amount for o in clean_orders)
    return dg.Output(total, metadata={"table": warehouse.table("revenue")})


@dg.multi_asset(
    outs={"big_orders": dg.AssetOut(io_manager_key="json_io"), "small_orders": dg.AssetOut()},
    ins={"clean_orders": dg.AssetIn(key=["clean", "orders"])},
    group_name="sales",
)
def split_orders(clean_orders: list[Order]):
    big = [o.id for o in clean_orders if o.amount >= 10]
    small = [o.id for o in clean_orders if o.amount < 10]
    return big, small


@dg.asset(
    group_name="reporting",
    check_specs=[dg.AssetCheckSpec("has_rows", asset="summary_table")],
    deps=[revenue],
)
def summary_table() -> dg.MaterializeResult:
    """Written by the asset itself: no I/O manager, metadata and a check result instead."""
    return dg.MaterializeResult(
        metadata={
            "schema": dg.TableSchema([dg.TableColumn("day", "date"), dg.TableColumn("total")]),
            "preview": dg.MetadataValue.md("| day | total |"),
        },
        check_results=[dg.AssetCheckResult(passed=True)],
    )


regions = dg.StaticPartitionsDefinition(["eu", "us"])
daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08")


@dg.asset(partitions_def=regions, group_name="regional")
def regional_sales(context: dg.AssetExecutionContext) -> int:
    return {"eu": 3, "us": 5}[context.partition_key]


@dg.asset(partitions_def=daily, group_name="daily")
def daily_visits(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key[-2:])


@dg.asset(
    partitions_def=daily,
    group_name="daily",
    ins={"daily_visits": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(-1, -1))},
)
def visits_yesterday(daily_visits: int) -> int:
    return daily_visits


# --- jobs and automation -------------------------------------------------------------------

sales_job = dg.define_asset_job("sales_job", selection="group:sales", tags={"team": "data"})
daily_job = dg.define_asset_job("daily_job", selection="group:daily", partitions_def=daily)


@dg.schedule(cron_schedule="0 6 * * *", job=sales_job, execution_timezone="Europe/Berlin")
def morning_sales(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())


@dg.sensor(job=sales_job, minimum_interval_seconds=60)
def new_files(context: dg.SensorEvaluationContext):
    last = int(context.cursor or 0)
    if last >= 2:
        return dg.SkipReason("no new files")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"file-{last + 1}")], cursor=str(last + 1)
    )


defs = dg.Definitions(
    assets=[
        raw_events, orders, revenue, split_orders, summary_table, regional_sales,
        daily_visits, visits_yesterday,
    ],
    asset_checks=[orders_have_ids],
    jobs=[sales_job, daily_job],
    schedules=[morning_sales],
    sensors=[new_files],
    resources={"warehouse": Warehouse(), "json_io": JsonLinesIOManager(root=tempfile.mkdtemp())},
)  # fmt: skip


def run_everything() -> dict[str, object]:
    """What a user's tests would do; returns what they would assert on."""
    graph = defs.get_asset_graph()
    resources = {
        **defs.resources,
        "io_manager": dg.FilesystemIOManager(base_dir=tempfile.mkdtemp()),
    }
    sales = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection="group:sales or group:reporting",
        resources=resources,
        run_config={"ops": {"clean__orders": {"config": {"minimum_amount": 1.0}}}},
    )
    for region in regions.get_partition_keys():
        dg.materialize([regional_sales], partition_key=region, resources=resources)
    for day in ("2024-01-01", "2024-01-02"):
        dg.materialize([daily_visits], partition_key=day, resources=resources)
    yesterday = dg.materialize(
        [daily_visits, visits_yesterday], selection="visits_yesterday",
        partition_key="2024-01-02", resources=resources,
    )  # fmt: skip
    tick = morning_sales.evaluate_tick(
        dg.build_schedule_context(
            scheduled_execution_time=dt.datetime(2024, 1, 1, 6, tzinfo=dt.UTC)
        )
    )
    sensed = new_files.evaluate_tick(dg.build_sensor_context(cursor="1"))
    return {
        "sales_success": sales.success,
        "revenue": sales.asset_value("revenue"),
        "big_orders": sales.asset_value("big_orders"),
        "checks": sorted(e.check_name for e in sales.get_asset_check_evaluations()),
        "visits_yesterday": yesterday.asset_value("visits_yesterday"),
        "sales_job_assets": sorted(
            k.to_user_string() for k in defs.get_job_def("sales_job").resolve_keys(graph)
        ),
        "schedule_run_keys": [r.run_key for r in tick.run_requests],
        "sensor": ([r.run_key for r in sensed.run_requests], sensed.cursor),
    }


if __name__ == "__main__":
    for name, value in run_everything().items():
        print(f"{name:>18}: {value}")
