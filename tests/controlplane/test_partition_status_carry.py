"""A partition status carried over a definition change equals the status rebuilt from
the history: time windows whose start or end moved, static keys appended; and a change
that renumbers is rebuilt."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weir_controlplane.storage import DeploymentScope, IndexedPartitions, Storage
from weir_controlplane.storage.partition_status import PartitionStatus, PartitionStatusStorage
from weir_controlplane.storage.schema import asset_latest, asset_partition_status
from weir_partitions import (
    IndexedKeySpace,
    StaticKeySpace,
    TimeWindowKeySpace,
    carry_over,
    numbering_of,
)

HOUR = timedelta(hours=1)
START = datetime(2024, 3, 1, tzinfo=UTC)


def indexed(space: IndexedKeySpace) -> IndexedPartitions:
    """How the API numbers a time-window or static definition (api/partitions.py)."""
    return IndexedPartitions(
        hashlib.sha256(repr(space).encode()).hexdigest()[:40],
        index_many=lambda keys: space.indexes_of(keys, time.time()),
        index_ranges=lambda keys: space.index_ranges(keys, time.time()),
        numbering=lambda: numbering_of(space, time.time()),
        carry_over=lambda old: carry_over(old, space, time.time()),
        keys_slice=lambda offset, limit: space.keys_slice(offset, limit, time.time()),
    )


def record(storage: Storage, scope: DeploymentScope, asset: str, outcomes: dict[str, str]) -> None:
    """asset_latest as ingest leaves it: each key's latest outcome."""
    now = datetime.now(UTC)
    columns = {"materialization": ("materialization_event_id", "materialized_at"),
               "failure": ("failure_event_id", "failed_at")}  # fmt: skip
    empty = dict.fromkeys(name for pair in columns.values() for name in pair)
    rows = [
        empty
        | {"deployment_id": scope.deployment_id, "asset_key": asset, "partition": key}
        | dict(zip(columns[outcome], (at + 1, now), strict=True))
        for at, (key, outcome) in enumerate(sorted(outcomes.items()))
    ]
    with storage.database.write() as conn:
        if rows:
            conn.execute(asset_latest.insert(), rows)


def rebuilt(
    storage: Storage, scope: DeploymentScope, asset: str, partitions: IndexedPartitions
) -> PartitionStatus:
    with storage.database.write() as conn:
        conn.execute(
            asset_partition_status.delete().where(
                asset_partition_status.c.deployment_id == scope.deployment_id,
                asset_partition_status.c.asset_key == asset,
            )
        )
    return PartitionStatusStorage(storage.database).get(scope, asset, partitions)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["UTC", "America/New_York"]),
    st.integers(-200, 200),
    st.integers(1, 600),
    st.integers(1, 600),
    st.dictionaries(
        st.integers(-250, 700), st.sampled_from(["materialization", "failure"]), max_size=80
    ),
)
def test_a_status_carried_over_a_moved_start_or_end_equals_the_rebuilt_one(
    storage: Storage,
    scope: DeploymentScope,
    zone: str,
    moved: int,
    old_end: int,
    new_end: int,
    history: dict[int, str],
) -> None:
    fmt = "%Y-%m-%d-%H:%M"
    old = TimeWindowKeySpace("0 * * * *", zone, fmt, START, START + old_end * HOUR)
    new_start = START + moved * HOUR
    new = TimeWindowKeySpace(
        "0 * * * *", zone, fmt, new_start, START + max(new_end, moved + 1) * HOUR
    )
    asset = f"hourly-{uuid.uuid4().hex[:8]}"
    # History over keys of both definitions and beyond (recorded before a change).
    tick = int(START.timestamp()) // 3600 * 3600
    keys = {old.format_tick(tick + i * 3600): outcome for i, outcome in history.items()}
    record(storage, scope, asset, keys)
    statuses = PartitionStatusStorage(storage.database)
    statuses.get(scope, asset, indexed(old))
    assert carry_over(numbering_of(old, time.time()) or "", new, time.time()) is not None
    carried = statuses.get(scope, asset, indexed(new))
    assert carried == rebuilt(storage, scope, asset, indexed(new))


def test_static_keys_appended_carry_the_stored_status_and_read_the_new_keys_history(
    storage: Storage, scope: DeploymentScope
) -> None:
    record(storage, scope, "regions", {"eu": "materialization", "latam": "failure"})
    statuses = PartitionStatusStorage(storage.database)
    before = statuses.get(scope, "regions", indexed(StaticKeySpace(["eu", "us"])))
    assert list(before.materialized) == [0] and not before.failed
    # The stored status is what is carried: a key the history no longer has stays shown
    # (a rebuild would drop it), so the carried path is the one taken.
    with storage.database.write() as conn:
        conn.execute(
            asset_latest.delete().where(
                asset_latest.c.deployment_id == scope.deployment_id,
                asset_latest.c.partition == "eu",
            )
        )
    grown = StaticKeySpace(["eu", "us", "latam"])
    after = statuses.get(scope, "regions", indexed(grown))
    assert (list(after.materialized), list(after.failed)) == ([0], [2])
    # Reordering renumbers: rebuilt from the history.
    reordered = statuses.get(scope, "regions", indexed(StaticKeySpace(["latam", "eu", "us"])))
    assert (list(reordered.materialized), list(reordered.failed)) == ([], [0])
