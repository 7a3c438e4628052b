"""From an asset's stored index sets to GetPartitionStatus's counts and ranges.

A partition shows one state: IN_PROGRESS while a started run targets it, else FAILED or
MATERIALIZED by its latest outcome, else MISSING. The ranges cover [0, total) in order.
Merged into at most `buckets` ranges of about equal width, for a bar of that many
pixels, a range is FAILED if any of its partitions failed (one failure stays visible),
else IN_PROGRESS if any is, else MATERIALIZED or MISSING, whichever covers more of it.

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
from typing import TypeVar

from weir_partitions import IndexRanges
from weir_protos.v1 import control_plane_pb2 as cp

MISSING = cp.PARTITION_STATE_MISSING
MATERIALIZED = cp.PARTITION_STATE_MATERIALIZED
FAILED = cp.PARTITION_STATE_FAILED
IN_PROGRESS = cp.PARTITION_STATE_IN_PROGRESS
# A merged range shows the first of these present among its partitions, else the larger
# of the other two.
_URGENT = (FAILED, IN_PROGRESS)

S = TypeVar("S", bound=int)

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
    width, each in the state it shows (see the module docstring), equal neighbours joined."""
    return merge_state_runs(runs, total, buckets, _URGENT, MATERIALIZED, MISSING)


def merge_state_runs(
    runs: Sequence[tuple[int, int, S]],
    total: int,
    buckets: int,
    urgent_states: Sequence[S],
    done: S,
    missing: S,
) -> list[tuple[int, int, S]]:
    """`merge_runs` over any states: a bucket shows the first of `urgent_states` among its
    partitions, else whichever of `done` and `missing` covers more of it."""
    merged: list[tuple[int, int, S]] = []
    at = 0  # the first run that reaches into the current bucket
    for bucket in range(buckets):
        start, end = bucket * total // buckets, (bucket + 1) * total // buckets
        if end <= start:
            continue
        while runs[at][1] <= start:
            at += 1
        width: dict[S, int] = {}
        scan = at
        while scan < len(runs) and runs[scan][0] < end:
            run_start, run_end, run_state = runs[scan]
            overlap = min(run_end, end) - max(run_start, start)
            width[run_state] = width.get(run_state, 0) + overlap
            scan += 1
        urgent = [state for state in urgent_states if state in width]
        if urgent:
            state = urgent[0]
        else:
            state = done if width.get(done, 0) > width.get(missing, 0) else missing
        if merged and merged[-1][2] == state:
            merged[-1] = (merged[-1][0], end, state)
        else:
            merged.append((start, end, state))
    return merged
