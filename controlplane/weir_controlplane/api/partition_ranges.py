"""From an asset's stored index sets to GetPartitionStatus's counts and ranges.

A partition shows one state: IN_PROGRESS while a started run targets it, else FAILED or
MATERIALIZED by its latest outcome, else MISSING. The ranges cover [0, total) in order;
merged into at most `buckets` ranges of about equal width for a bar of that many
pixels, a range shows the most urgent state among its partitions so that a single
failure stays visible.

>>> from weir_partitions import IndexRanges as R
>>> status = DisplayedStatus.of(10, R.span(0, 6), R.of([7]), R.empty())
>>> status.runs()
[(0, 6, 2), (6, 7, 1), (7, 8, 3), (8, 10, 1)]
>>> merge_runs(status.runs(), 10, 2)
[(0, 5, 2), (5, 10, 3)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from weir_partitions import IndexRanges
from weir_protos.v1 import control_plane_pb2 as cp

MISSING = cp.PARTITION_STATE_MISSING
MATERIALIZED = cp.PARTITION_STATE_MATERIALIZED
FAILED = cp.PARTITION_STATE_FAILED
IN_PROGRESS = cp.PARTITION_STATE_IN_PROGRESS
# Which state a merged range shows when its partitions differ: the first one present.
_URGENCY = {FAILED: 0, IN_PROGRESS: 1, MISSING: 2, MATERIALIZED: 3}

# (start, end, state): partitions [start, end) in one state.
Run = tuple[int, int, cp.PartitionState]


@dataclass(frozen=True)
class DisplayedStatus:
    """The disjoint sets of partitions in each displayed state."""

    total: int
    materialized: IndexRanges
    failed: IndexRanges
    in_progress: IndexRanges
    missing: IndexRanges

    @classmethod
    def of(
        cls,
        total: int,
        materialized: IndexRanges,
        failed: IndexRanges,
        in_progress: IndexRanges,
    ) -> DisplayedStatus:
        existing = IndexRanges.span(0, total)
        in_progress = in_progress & existing
        failed = (failed & existing) - in_progress
        materialized = (materialized & existing) - in_progress - failed
        missing = existing - in_progress - failed - materialized
        return cls(total, materialized, failed, in_progress, missing)

    def counts(self) -> cp.PartitionStateCounts:
        return cp.PartitionStateCounts(
            total=self.total,
            materialized=len(self.materialized),
            failed=len(self.failed),
            in_progress=len(self.in_progress),
            missing=len(self.missing),
        )

    def runs(self) -> list[Run]:
        runs: list[Run] = [
            (start, end, state)
            for state, ranges in (
                (MATERIALIZED, self.materialized),
                (FAILED, self.failed),
                (IN_PROGRESS, self.in_progress),
                (MISSING, self.missing),
            )
            for start, end in ranges.runs()
        ]
        runs.sort()
        return runs


def merge_runs(runs: Sequence[Run], total: int, buckets: int) -> list[Run]:
    """`runs` (covering [0, total) in order) as at most `buckets` ranges of about equal
    width, each in the most urgent state among its partitions, equal neighbours joined."""
    merged: list[Run] = []
    at = 0  # the first run that reaches into the current bucket
    for bucket in range(buckets):
        start, end = bucket * total // buckets, (bucket + 1) * total // buckets
        if end <= start:
            continue
        while runs[at][1] <= start:
            at += 1
        state = runs[at][2]
        scan = at
        while scan < len(runs) and runs[scan][0] < end:
            if _URGENCY[runs[scan][2]] < _URGENCY[state]:
                state = runs[scan][2]
            scan += 1
        if merged and merged[-1][2] == state:
            merged[-1] = (merged[-1][0], end, state)
        else:
            merged.append((start, end, state))
    return merged
