"""GetPartitionStatus's ranges: displayed states are disjoint and cover every partition,
and merged buckets keep failures visible and otherwise show what covers most of them."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from weir_controlplane.api.partition_ranges import (
    FAILED,
    IN_PROGRESS,
    MATERIALIZED,
    MISSING,
    DisplayedStatus,
    merge_runs,
)
from weir_partitions import IndexRanges


def test_a_bucket_mostly_materialized_shows_materialized_and_one_failure_shows_failed():
    status = DisplayedStatus.of(
        100, IndexRanges.from_runs([(0, 40), (50, 100)]), IndexRanges.of([77]), IndexRanges.empty()
    )
    assert merge_runs(status.runs(), 100, 2) == [(0, 50, MATERIALIZED), (50, 100, FAILED)]
    # 25-partition buckets: [25, 50) is 15 materialized against 10 missing.
    assert merge_runs(status.runs(), 100, 4) == [(0, 75, MATERIALIZED), (75, 100, FAILED)]
    sparse = DisplayedStatus.of(
        100, IndexRanges.of(range(0, 100, 3)), IndexRanges.empty(), IndexRanges.empty()
    )
    assert merge_runs(sparse.runs(), 100, 1) == [(0, 100, MISSING)]


@given(
    st.integers(1, 300),
    st.sets(st.integers(0, 320)),
    st.sets(st.integers(0, 320)),
    st.sets(st.integers(0, 320)),
    st.integers(1, 50),
)
def test_states_partition_the_space_and_merging_covers_it(total, done, failed, running, buckets):
    status = DisplayedStatus.of(
        total, IndexRanges.of(done), IndexRanges.of(failed), IndexRanges.of(running)
    )
    counts = status.counts()
    assert counts.materialized + counts.failed + counts.in_progress + counts.missing == total
    assert counts.in_progress == len({i for i in running if i < total})
    runs = status.runs()
    assert runs[0][0] == 0 and runs[-1][1] == total
    assert all(a[1] == b[0] for a, b in itertools.pairwise(runs))
    merged = merge_runs(runs, total, buckets)
    assert merged[0][0] == 0 and merged[-1][1] == total and len(merged) <= buckets
    assert all(a[1] == b[0] and a[2] != b[2] for a, b in itertools.pairwise(merged))
    # Every failure lands in a FAILED range.
    for index in status.failed:
        assert next(state for start, end, state in merged if start <= index < end) == FAILED
    assert {state for *_, state in merged} <= {FAILED, IN_PROGRESS, MATERIALIZED, MISSING}
