"""Asset state derived at ingest: latest materializations, history, partitions, checks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from weir_controlplane.storage import (
    DeploymentScope,
    EventType,
    NewEvent,
    NewRun,
    PartitionCounts,
    PartitionOutcome,
    Storage,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# Every asset these tests report; a run refuses events for assets outside its plan.
PLANNED = (
    "daily",
    "orders",
    "revenue",
    "fresh",
    "plain",
    "unchecked",
    "never",
    "elsewhere",
    *(f"shared{i}" for i in range(20)),
)


class Worker:
    """Reports one run's events the way a run worker does: numbered, in batches."""

    def __init__(self, storage: Storage, scope: DeploymentScope) -> None:
        self.storage = storage
        self.scope = scope
        self.run_id = storage.runs.create_run(
            scope, NewRun(code_location="etl", asset_keys=PLANNED)
        ).run_id
        self.sequence = 0

    def event(self, event_type: str, **fields: Any) -> NewEvent:
        self.sequence += 1
        return NewEvent(
            sequence=self.sequence,
            event_type=event_type,
            timestamp=T0 + timedelta(seconds=self.sequence),
            **fields,
        )

    def materialized(self, asset_key: str, partition: str | None = None) -> NewEvent:
        return self.event(
            EventType.ASSET_MATERIALIZATION,
            asset_key=asset_key,
            partition=partition,
            payload=f"{asset_key}/{partition}@{self.run_id}".encode(),
        )

    def failed(self, asset_key: str, partition: str | None = None) -> NewEvent:
        return self.event(
            EventType.ASSET_FAILED_TO_MATERIALIZE, asset_key=asset_key, partition=partition
        )

    def checked(self, asset_key: str, check_name: str, passed: bool, **fields: Any) -> NewEvent:
        return self.event(
            EventType.ASSET_CHECK_EVALUATION,
            asset_key=asset_key,
            check_name=check_name,
            check_passed=passed,
            **fields,
        )

    def send(self, *events: NewEvent) -> None:
        self.storage.events.store_batch(self.scope, self.run_id, events)


def test_latest_materialization_and_count_follow_a_mixed_batch(
    storage: Storage, scope: DeploymentScope
) -> None:
    worker = Worker(storage, scope)
    worker.send(
        worker.event(EventType.RUN_STARTED),
        worker.materialized("orders"),
        worker.event("STEP_OUTPUT", step_key="orders"),
        worker.materialized("revenue"),
        worker.materialized("orders"),
        worker.event("LOG", message="done"),
    )
    summaries = storage.assets.summaries(scope, ["orders", "revenue", "never"])
    assert set(summaries) == {"orders", "revenue"}
    assert summaries["orders"].materialization_count == 2
    latest = summaries["orders"].latest_materialization
    assert latest is not None
    assert (latest.sequence, latest.run_id) == (5, worker.run_id)
    assert summaries["revenue"].materialization_count == 1

    second = Worker(storage, scope)
    second.send(second.materialized("revenue"))
    latest_revenue = storage.assets.latest_materializations(scope, ["revenue"])["revenue"]
    assert latest_revenue.run_id == second.run_id
    assert storage.assets.summaries(scope)["revenue"].materialization_count == 2


def test_latest_per_partition_for_many_assets_in_one_call(
    storage: Storage, scope: DeploymentScope
) -> None:
    first, second = Worker(storage, scope), Worker(storage, scope)
    first.send(
        first.materialized("daily", "2026-03-01"),
        first.materialized("daily", "2026-03-02"),
        first.materialized("plain"),
    )
    second.send(second.materialized("daily", "2026-03-02"))
    keys = ["daily", "plain", *(f"other{i}" for i in range(6000))]

    latest = storage.assets.latest_materializations_by_partition(scope, keys)
    assert set(latest) == {("daily", "2026-03-01"), ("daily", "2026-03-02"), ("plain", None)}
    assert latest[("daily", "2026-03-01")].run_id == first.run_id
    assert latest[("daily", "2026-03-02")].run_id == second.run_id

    only = storage.assets.latest_materializations_by_partition(
        scope, ["daily"], partitions=["2026-03-02"]
    )
    assert list(only) == [("daily", "2026-03-02")]


def test_materialization_history_pages_newest_first_and_filters_by_partition(
    storage: Storage, scope: DeploymentScope
) -> None:
    worker = Worker(storage, scope)
    worker.send(*(worker.materialized("daily", f"2026-03-0{day % 3 + 1}") for day in range(7)))
    worker.send(worker.materialized("elsewhere"), worker.event("LOG", asset_key="daily"))

    sequences: list[int | None] = []
    cursor = None
    while True:
        page = storage.assets.list_materializations(scope, "daily", cursor=cursor, limit=3)
        sequences.extend(event.sequence for event in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sequences == [7, 6, 5, 4, 3, 2, 1]

    one_partition = storage.assets.list_materializations(scope, "daily", partition="2026-03-02")
    assert [event.sequence for event in one_partition.items] == [5, 2]
    assert {event.partition for event in one_partition.items} == {"2026-03-02"}


def test_partition_outcomes_show_failures_until_a_later_success(
    storage: Storage, scope: DeploymentScope
) -> None:
    worker = Worker(storage, scope)
    worker.send(
        worker.materialized("daily", "d1"),
        worker.materialized("daily", "d2"),
        worker.failed("daily", "d3"),
    )
    worker.send(worker.failed("daily", "d2"))
    assert storage.assets.partition_outcomes(scope, "daily") == {
        "d1": PartitionOutcome.MATERIALIZED,
        "d2": PartitionOutcome.FAILED,
        "d3": PartitionOutcome.FAILED,
    }
    assert storage.assets.partition_status_counts(scope, ["daily", "none"]) == {
        "daily": PartitionCounts(materialized=1, failed=2)
    }

    retry = Worker(storage, scope)
    retry.send(retry.materialized("daily", "d2"), retry.materialized("daily", "d3"))
    assert storage.assets.partition_status_counts(scope, ["daily"]) == {
        "daily": PartitionCounts(materialized=3, failed=0)
    }
    # A failure of an unpartitioned asset does not count as a partition.
    retry.send(retry.failed("daily"))
    assert storage.assets.partition_status_counts(scope, ["daily"])["daily"].failed == 0


def test_latest_check_results_per_check_and_partition(
    storage: Storage, scope: DeploymentScope
) -> None:
    worker = Worker(storage, scope)
    worker.send(
        worker.checked("orders", "not_empty", False, check_severity="ERROR"),
        worker.checked("orders", "fresh", True),
        worker.checked("orders", "not_empty", True, check_severity="ERROR"),
        worker.checked("daily", "rows", False, partition="d1", check_severity="WARN"),
        worker.checked("daily", "rows", True, partition="d2"),
    )
    results = storage.assets.latest_check_results(scope, ["orders", "daily", "unchecked"])
    assert set(results) == {"orders", "daily"}
    assert [(r.check_name, r.passed, r.severity) for r in results["orders"]] == [
        ("fresh", True, None),
        ("not_empty", True, "ERROR"),
    ]
    assert [(r.partition, r.passed) for r in results["daily"]] == [("d1", False), ("d2", True)]
    assert results["orders"][1].run_id == worker.run_id
    assert results["orders"][1].timestamp == T0 + timedelta(seconds=3)

    later = Worker(storage, scope)
    later.send(later.checked("orders", "fresh", False, check_severity="WARN"))
    fresh = next(
        r
        for r in storage.assets.latest_check_results(scope, ["orders"])["orders"]
        if r.check_name == "fresh"
    )
    assert (fresh.passed, fresh.run_id) == (False, later.run_id)


def test_a_late_redelivery_does_not_roll_asset_state_back(
    storage: Storage, scope: DeploymentScope
) -> None:
    old, new = Worker(storage, scope), Worker(storage, scope)
    old_batch = (old.materialized("orders"),)
    old.send(*old_batch)
    new.send(new.materialized("orders"))
    old.send(*old_batch)
    summary = storage.assets.summaries(scope, ["orders"])["orders"]
    assert summary.materialization_count == 2
    assert summary.latest_materialization is not None
    assert summary.latest_materialization.run_id == new.run_id


def test_runs_ingesting_at_once_count_every_materialization(
    storage: Storage, scope: DeploymentScope
) -> None:
    workers = [Worker(storage, scope) for _ in range(4)]
    keys = [f"shared{i}" for i in range(20)]
    barrier = threading.Barrier(len(workers))

    def report(worker: Worker, order: list[str]) -> None:
        barrier.wait()
        for _ in range(5):
            worker.send(*(worker.materialized(key, "p") for key in order))

    threads = [
        threading.Thread(target=report, args=(worker, keys if n % 2 else keys[::-1]))
        for n, worker in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summaries = storage.assets.summaries(scope, keys)
    assert {summary.materialization_count for summary in summaries.values()} == {20}
    latest = storage.assets.latest_materializations_by_partition(scope, keys)
    for key in keys:
        newest = summaries[key].latest_materialization
        assert newest is not None
        assert latest[(key, "p")].event_id == newest.event_id
