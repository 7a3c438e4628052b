"""The code location of bench/celery_steps.py: STEPS trivial independent assets and one job
per executor (in process, multiprocess on both cores, Celery on WEIR_BENCH_BROKER)."""

import os

import weir as dg

STEPS = int(os.environ.get("WEIR_BENCH_STEPS", "200"))


def _step(index: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"s_{index}")
    def step() -> int:
        return index

    return step


steps = [_step(i) for i in range(STEPS)]
everything = dg.AssetSelection.all()
defs = dg.Definitions(
    assets=steps,
    resources={"io_manager": dg.FilesystemIOManager(base_dir=os.environ["WEIR_BENCH_IO"])},
    jobs=[
        dg.define_asset_job("in_process", everything, executor_def=dg.in_process_executor),
        dg.define_asset_job(
            "multiprocess",
            everything,
            executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}),
        ),
        dg.define_asset_job(
            "celery",
            everything,
            executor_def=dg.celery_executor.configured(
                {
                    "broker": os.environ["WEIR_BENCH_BROKER"],
                    "default_queue": os.environ["WEIR_BENCH_QUEUE"],
                    "poll_seconds": 0.02,
                }
            ),
        ),
    ],
)
