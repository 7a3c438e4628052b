"""Event ingest: idempotent batches, acknowledgements, run status, and reading by cursor."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from weir_controlplane.storage import (
    DeploymentScope,
    EventType,
    InvalidEventError,
    NaiveDatetimeError,
    NewEvent,
    NewRun,
    RunNotFoundError,
    RunStatus,
    Storage,
    UnplannedAssetError,
)
from weir_controlplane.storage.schema import event_log, runs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _event(sequence: int, event_type: str = "STEP_OUTPUT", **fields: Any) -> NewEvent:
    return NewEvent(
        sequence=sequence,
        event_type=event_type,
        timestamp=T0 + timedelta(seconds=sequence),
        **fields,
    )


def _materialization(sequence: int, asset_key: str, partition: str | None = None) -> NewEvent:
    return _event(
        sequence,
        EventType.ASSET_MATERIALIZATION,
        asset_key=asset_key,
        partition=partition,
        payload=f"{asset_key}@{sequence}".encode(),
    )


def _new_run(storage: Storage, scope: DeploymentScope) -> str:
    plan = ("orders", "a", "warehouse/orders")
    return storage.runs.create_run(scope, NewRun(code_location="etl", asset_keys=plan)).run_id


def test_a_redelivered_batch_is_stored_once(storage: Storage, scope: DeploymentScope) -> None:
    run_id = _new_run(storage, scope)
    batch = [_event(1, EventType.RUN_STARTED), _materialization(2, "orders"), _event(3)]

    first = storage.events.store_batch(scope, run_id, batch)
    again = storage.events.store_batch(scope, run_id, batch)

    assert (first.inserted, first.acknowledged_sequence) == (3, 3)
    assert (again.inserted, again.acknowledged_sequence) == (0, 3)
    events = storage.event_log.get_run_events(scope, run_id).items
    assert [event.sequence for event in events] == [1, 2, 3]
    assert storage.assets.summaries(scope, ["orders"])["orders"].materialization_count == 1


def test_a_partly_new_batch_adds_only_its_new_events(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    storage.events.store_batch(scope, run_id, [_materialization(1, "a"), _event(2)])
    result = storage.events.store_batch(
        scope, run_id, [_event(2), _materialization(3, "a"), _materialization(3, "a")]
    )
    assert (result.inserted, result.acknowledged_sequence) == (1, 3)
    assert storage.assets.summaries(scope, ["a"])["a"].materialization_count == 2


def test_events_past_a_gap_wait_for_the_worker_to_resend_them(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    late = storage.events.store_batch(scope, run_id, [_event(s) for s in range(6, 11)])
    assert (late.inserted, late.acknowledged_sequence) == (0, 0)

    filled = storage.events.store_batch(scope, run_id, [_event(s) for s in range(1, 6)])
    assert (filled.inserted, filled.acknowledged_sequence) == (5, 5)
    # A batch that starts below the ack and runs past a gap stores what continues the prefix.
    mixed = storage.events.store_batch(scope, run_id, [_event(s) for s in (*range(4, 9), 11, 12)])
    assert (mixed.inserted, mixed.acknowledged_sequence) == (3, 8)
    assert storage.runs.get_run(scope, run_id).last_event_sequence == 8
    sequences = [event.sequence for event in storage.event_log.get_run_events(scope, run_id).items]
    assert sequences == list(range(1, 9))


def test_events_stored_past_a_gap_by_an_older_version_are_not_stored_again(
    storage: Storage, scope: DeploymentScope
) -> None:
    # Before gaps were refused, events past one were stored: 3 and 4 here, never applied.
    run_id = _new_run(storage, scope)
    with storage.database.write() as conn:
        conn.execute(
            event_log.insert(),
            [
                {
                    "deployment_id": scope.deployment_id,
                    "run_id": run_id,
                    "sequence": sequence,
                    "event_type": EventType.ASSET_MATERIALIZATION.value,
                    "timestamp": T0,
                    "asset_key": "a",
                }
                for sequence in (3, 4)
            ],
        )
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(max_event_sequence=4))

    batch = [_event(1), _materialization(2, "a"), _materialization(3, "a"), _event(4)]
    result = storage.events.store_batch(scope, run_id, batch)

    assert (result.inserted, result.acknowledged_sequence) == (2, 4)
    assert storage.assets.summaries(scope, ["a"])["a"].materialization_count == 1
    sequences = [event.sequence for event in storage.event_log.get_run_events(scope, run_id).items]
    assert sorted(sequences) == [1, 2, 3, 4]


def test_lifecycle_events_drive_run_status(storage: Storage, scope: DeploymentScope) -> None:
    run_id = _new_run(storage, scope)
    storage.runs.transition(scope, run_id, from_statuses={RunStatus.QUEUED}, to=RunStatus.STARTING)
    storage.events.store_batch(scope, run_id, [_event(1, EventType.RUN_STARTED)])
    started = storage.runs.get_run(scope, run_id)
    assert started.status is RunStatus.STARTED
    assert started.started_at == T0 + timedelta(seconds=1)

    storage.events.store_batch(
        scope,
        run_id,
        [
            _event(2, "STEP_FAILURE", step_key="orders", message="ZeroDivisionError: boom"),
            _event(3, EventType.RUN_FAILURE, message="step 'orders' failed"),
        ],
    )
    failed = storage.runs.get_run(scope, run_id)
    assert failed.status is RunStatus.FAILURE
    assert failed.failure_reason == "step 'orders' failed"
    assert failed.ended_at == T0 + timedelta(seconds=3)
    assert failed.last_event_sequence == 3


def test_an_end_that_arrives_before_the_start_waits_for_it(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    early = storage.events.store_batch(scope, run_id, [_event(3, EventType.RUN_SUCCESS)])
    assert early.acknowledged_sequence == 0
    assert storage.runs.get_run(scope, run_id).status is RunStatus.QUEUED

    storage.events.store_batch(
        scope,
        run_id,
        [_event(1, EventType.RUN_STARTED), _event(2), _event(3, EventType.RUN_SUCCESS)],
    )
    run = storage.runs.get_run(scope, run_id)
    assert run.status is RunStatus.SUCCESS
    assert run.started_at == T0 + timedelta(seconds=1)
    assert run.ended_at == T0 + timedelta(seconds=3)


def test_a_materialization_after_the_end_is_not_stored(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    result = storage.events.store_batch(
        scope,
        run_id,
        [
            _event(1, EventType.RUN_STARTED),
            _event(2, EventType.RUN_SUCCESS),
            _materialization(3, "a"),
        ],
    )
    assert (result.inserted, result.acknowledged_sequence, result.refused) == (2, 2, 1)
    assert result.status is RunStatus.SUCCESS
    assert storage.assets.summaries(scope, ["a"]) == {}


def test_an_event_for_an_asset_outside_the_plan_stores_nothing(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    with pytest.raises(UnplannedAssetError, match="'revenue'"):
        storage.events.store_batch(
            scope, run_id, [_event(1, EventType.RUN_STARTED), _materialization(2, "revenue")]
        )
    assert storage.event_log.get_run_events(scope, run_id).items == ()
    assert storage.assets.summaries(scope, ["revenue"]) == {}


def test_a_terminal_status_is_final(storage: Storage, scope: DeploymentScope) -> None:
    run_id = _new_run(storage, scope)
    storage.events.store_batch(scope, run_id, [_event(1, EventType.RUN_STARTED)])
    storage.events.record(
        scope,
        run_id,
        NewEvent(
            sequence=None,
            event_type=EventType.RUN_FAILURE,
            timestamp=T0 + timedelta(minutes=5),
            message="run worker stopped heartbeating",
        ),
    )
    late = storage.events.store_batch(scope, run_id, [_event(2, EventType.RUN_SUCCESS)])
    assert (late.inserted, late.refused, late.status) == (0, 1, RunStatus.FAILURE)
    run = storage.runs.get_run(scope, run_id)
    assert run.status is RunStatus.FAILURE
    assert run.failure_reason == "run worker stopped heartbeating"
    assert run.last_event_sequence == 1


def test_control_plane_events_sit_beside_the_workers_sequence(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    recorded = storage.events.record(
        scope,
        run_id,
        NewEvent(sequence=None, event_type="ENGINE_EVENT", timestamp=T0, message="launching"),
    )
    assert recorded.sequence is None
    result = storage.events.store_batch(scope, run_id, [_event(1), _event(2)])
    assert result.acknowledged_sequence == 2
    types = [event.event_type for event in storage.event_log.get_run_events(scope, run_id).items]
    assert types == ["ENGINE_EVENT", "STEP_OUTPUT", "STEP_OUTPUT"]


def test_a_worker_reporting_after_a_cancel_the_control_plane_recorded_is_refused(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    storage.events.record(
        scope,
        run_id,
        NewEvent(
            sequence=None, event_type=EventType.RUN_CANCELED, timestamp=T0, message="by alice"
        ),
    )
    assert storage.runs.get_run(scope, run_id).status is RunStatus.CANCELED
    result = storage.events.store_batch(scope, run_id, [_event(1), _materialization(2, "a")])
    assert (result.inserted, result.refused, result.status) == (0, 2, RunStatus.CANCELED)
    types = [event.event_type for event in storage.event_log.get_run_events(scope, run_id).items]
    assert types == [EventType.RUN_CANCELED]
    assert storage.assets.summaries(scope, ["a"]) == {}


def test_events_read_back_in_pages_and_a_cursor_follows_a_live_run(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    storage.events.store_batch(
        scope, run_id, [_event(s, message=f"event {s}") for s in range(1, 6)]
    )
    first = storage.event_log.get_run_events(scope, run_id, limit=3)
    assert [event.message for event in first.items] == ["event 1", "event 2", "event 3"]
    assert first.has_more
    rest = storage.event_log.get_run_events(scope, run_id, after_cursor=first.cursor)
    assert [event.sequence for event in rest.items] == [4, 5]
    assert not rest.has_more

    idle = storage.event_log.get_run_events(scope, run_id, after_cursor=rest.cursor)
    assert idle.items == () and idle.cursor == rest.cursor
    storage.events.store_batch(scope, run_id, [_event(6)])
    arrived = storage.event_log.get_run_events(scope, run_id, after_cursor=idle.cursor)
    assert [event.sequence for event in arrived.items] == [6]


def test_event_timestamps_keep_their_instant_and_naive_ones_are_refused(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    in_paris = (T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=1)))
    storage.events.store_batch(
        scope, run_id, [NewEvent(sequence=1, event_type="STEP_START", timestamp=in_paris)]
    )
    naive = NewEvent(sequence=2, event_type="STEP_START", timestamp=datetime(2026, 3, 1))
    with pytest.raises(NaiveDatetimeError):
        storage.events.store_batch(scope, run_id, [naive])

    (event,) = storage.event_log.get_run_events(scope, run_id).items
    assert event.timestamp == T0 + timedelta(hours=1)
    assert event.timestamp.utcoffset() == timedelta(0)
    assert storage.runs.get_run(scope, run_id).last_event_sequence == 1


def test_event_fields_and_payload_round_trip(storage: Storage, scope: DeploymentScope) -> None:
    run_id = _new_run(storage, scope)
    payload = bytes(range(256))
    storage.events.store_batch(
        scope,
        run_id,
        [
            _event(
                1,
                "STEP_FAILURE",
                step_key="orders",
                asset_key="warehouse/orders",
                partition="2026-03-01",
                message="ValueError: no rows",
                payload=payload,
            )
        ],
    )
    (event,) = storage.event_log.get_run_events(scope, run_id).items
    assert event.run_id == run_id
    assert event.step_key == "orders"
    assert event.asset_key == "warehouse/orders"
    assert event.partition == "2026-03-01"
    assert event.message == "ValueError: no rows"
    assert event.payload == payload
    assert event.timestamp == T0 + timedelta(seconds=1)


def test_events_for_an_unknown_run_are_refused(storage: Storage, scope: DeploymentScope) -> None:
    with pytest.raises(RunNotFoundError):
        storage.events.store_batch(scope, "no-such-run", [_event(1)])


@pytest.mark.parametrize(
    ("event", "complaint"),
    [
        (_event(0), "from 1 up"),
        (_event(1, ""), "event type"),
        (_event(1, EventType.ASSET_MATERIALIZATION), "asset_key"),
        (_event(1, EventType.ASSET_CHECK_EVALUATION, asset_key="a"), "check_name"),
    ],
)
def test_malformed_events_are_refused_and_nothing_is_stored(
    storage: Storage, scope: DeploymentScope, event: NewEvent, complaint: str
) -> None:
    run_id = _new_run(storage, scope)
    with pytest.raises(InvalidEventError, match=complaint):
        storage.events.store_batch(scope, run_id, [_event(1), event])
    assert storage.event_log.get_run_events(scope, run_id).items == ()


def test_concurrent_batches_of_one_run_ack_everything(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _new_run(storage, scope)
    batches = [[_event(s) for s in range(start, start + 10)] for start in range(1, 81, 10)]
    barrier = threading.Barrier(len(batches))

    def send(batch: list[NewEvent]) -> None:
        # Like a worker: send again until the ack covers the batch (past a gap it waits).
        barrier.wait()
        for _ in range(200):
            result = storage.events.store_batch(scope, run_id, batch)
            if result.acknowledged_sequence >= batch[-1].sequence:  # type: ignore[operator]
                return
            time.sleep(0.01)

    threads = [threading.Thread(target=send, args=(batch,)) for batch in reversed(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.runs.get_run(scope, run_id).last_event_sequence == 80
    assert len(storage.event_log.get_run_events(scope, run_id).items) == 80
