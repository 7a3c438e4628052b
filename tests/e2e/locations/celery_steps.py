"""A code location whose steps run on Celery workers (tests/e2e/test_celery_executor.py).

The broker, queue prefix and control folder come from the environment, so each test has
its own queues and Redis key prefix. Values pass through a filesystem I/O manager in the
control folder: the workers need no $WEIR_HOME and no database.
"""

import os
import time
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ["E2E_CONTROL"])
PREFIX = os.environ["WEIR_TEST_CELERY_PREFIX"]
FANOUT = 50
TRANSPORT = {"global_keyprefix": PREFIX + ":"}
if os.environ.get("WEIR_TEST_CELERY_VISIBILITY"):  # Redis re-delivers unacked tasks after it
    TRANSPORT["visibility_timeout"] = float(os.environ["WEIR_TEST_CELERY_VISIBILITY"])
    # A worker sweeps for overdue unacked tasks when it starts and then only every
    # interval x throttle seconds (100 s by default): a copy not yet overdue at the new
    # worker's start would come back long after the test. Sweep every second instead.
    TRANSPORT["unacked_restore_interval"] = 1
    TRANSPORT["unacked_restore_throttle"] = 1


def _wait_for(name: str) -> None:
    while not (CONTROL / name).exists():
        time.sleep(0.02)


@dg.asset
def root() -> int:
    return 1


def _leaf(index: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"leaf_{index}")
    def leaf(root: int) -> int:
        return root + index

    return leaf


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def held() -> str:
    """Writes its worker process's pid, then waits until the test lets it finish."""
    (CONTROL / f"held.{os.getpid()}.pid").write_text(str(os.getpid()))
    _wait_for("held.release")
    return "done"


@dg.asset
def after_held(held: str) -> str:
    return held + "!"


@dg.asset(op_tags={"weir-celery/queue": f"{PREFIX}-special"})
def routed() -> str:
    return str(os.getpid())


@dg.asset
def slow() -> None:
    (CONTROL / "slow.started").write_text(str(os.getpid()))
    _wait_for("slow.release")


@dg.asset(op_tags={"weir-celery/queue": f"{PREFIX}-unserved"})
def unserved() -> None:
    pass


@dg.asset(
    op_tags={"weir-celery/queue": f"{PREFIX}-nobody"}, retry_policy=dg.RetryPolicy(max_retries=1)
)
def stranded() -> None:
    pass


defs = dg.Definitions(
    assets=[
        root,
        *(_leaf(i) for i in range(FANOUT)),
        held,
        after_held,
        routed,
        slow,
        unserved,
        stranded,
    ],
    resources={"io_manager": dg.FilesystemIOManager(base_dir=str(CONTROL / "io"))},
    executor=dg.celery_executor.configured(
        {
            "broker": os.environ["WEIR_TEST_CELERY_BROKER"],
            "default_queue": PREFIX,
            "config_source": {"broker_transport_options": TRANSPORT},
            "heartbeat_seconds": 0.2,
            "lease_seconds": 2.0,
            "cancel_grace_seconds": 1.0,
            "poll_seconds": 0.05,
            "queued_timeout_seconds": float(
                os.environ.get("WEIR_TEST_CELERY_QUEUED_TIMEOUT", "600")
            ),
        }
    ),
)
