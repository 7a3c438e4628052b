"""Celery: each step a task on `weir celery worker` processes.

Serve it:        weir dev -f examples/celery/defs.py
Its workers:     weir celery worker -f examples/celery/defs.py --broker redis://127.0.0.1:6379/0
In Docker:       deploy/compose.yaml runs both (services location-celery, celery-worker).

The code server's run worker sends the steps to the broker in $WEIR_CELERY_BROKER; the
workers hold no database URL (they report to the control plane). Values pass through the
filesystem I/O manager under $WEIR_HOME, so the code server and its workers share that
folder (one volume in compose); across machines, use an object-store I/O manager.
"""

import os

import weir as dg


@dg.asset(group_name="payments")
def payments(context: dg.AssetExecutionContext) -> list[dict]:
    """Raw payments, as they would come from an API."""
    rows = [
        {"id": 1, "method": "card", "amount": 30.0},
        {"id": 2, "method": "transfer", "amount": 12.5},
        {"id": 3, "method": "card", "amount": 7.5},
    ]
    context.log.info(f"fetched {len(rows)} payments on a Celery worker")
    return rows


@dg.asset(group_name="payments")
def payments_by_method(payments: list[dict]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for payment in payments:
        totals[payment["method"]] = totals.get(payment["method"], 0.0) + payment["amount"]
    return totals


@dg.asset(group_name="payments")
def payment_count(payments: list[dict]) -> int:
    return len(payments)


defs = dg.Definitions(
    assets=[payments, payments_by_method, payment_count],
    executor=dg.celery_executor.configured(
        {"broker": os.environ.get("WEIR_CELERY_BROKER", "redis://127.0.0.1:6379/0")}
    ),
)
