"""A backfill's progress per asset: counts per state and run-length ranges over the
asset's target partitions (numbered 0.. in the definition's order), with the keys of the
range ends, as GetPartitionStatus encodes an asset's partitions."""

from __future__ import annotations

from collections.abc import Sequence

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert
from weir_controlplane.api.partition_ranges import merge_state_runs
from weir_controlplane.storage.backfills import Backfill, PlannedRun, PlannedRunState

REQUESTED = cp.BACKFILL_PARTITION_STATE_REQUESTED
IN_PROGRESS = cp.BACKFILL_PARTITION_STATE_IN_PROGRESS
MATERIALIZED = cp.BACKFILL_PARTITION_STATE_MATERIALIZED
FAILED = cp.BACKFILL_PARTITION_STATE_FAILED
SKIPPED = cp.BACKFILL_PARTITION_STATE_SKIPPED
# As partition status: a merged range shows a failure (or a skip) first.
_URGENT = (FAILED, SKIPPED, IN_PROGRESS)
MAX_EXACT_RANGES = 10_000

_SHOWN_AS = {
    PlannedRunState.PLANNED: REQUESTED,
    PlannedRunState.LAUNCHED: IN_PROGRESS,
    PlannedRunState.SUCCEEDED: MATERIALIZED,
    PlannedRunState.FAILED: FAILED,
    PlannedRunState.SKIPPED: SKIPPED,
    PlannedRunState.CANCELED: SKIPPED,
}


def asset_progress(
    backfill: Backfill, planned: Sequence[PlannedRun], max_buckets: int = 0
) -> list[cp.BackfillAssetProgress]:
    """The progress of each of the backfill's assets, in dependency order."""
    position = {
        asset: {k: i for i, k in enumerate(keys)} for asset, keys in backfill.targets.items()
    }
    states = {asset: [REQUESTED] * max(1, len(keys)) for asset, keys in backfill.targets.items()}
    for run in planned:
        shown = _SHOWN_AS[run.state]
        for asset in run.asset_keys:
            at = position.get(asset)
            if at is None:
                continue
            for key in run.partition_keys or ("",):
                states[asset][at.get(key, 0)] = shown
    return [
        _progress(asset, backfill.targets[asset], states[asset], max_buckets)
        for asset in backfill.targets
    ]


def _progress(
    asset: str, keys: Sequence[str], states: list[cp.BackfillPartitionState], buckets: int
) -> cp.BackfillAssetProgress:
    counts = cp.BackfillPartitionCounts(total=len(states))
    for state in states:
        field = cp.BackfillPartitionState.Name(state).removeprefix("BACKFILL_PARTITION_STATE_")
        setattr(counts, field.lower(), getattr(counts, field.lower()) + 1)
    progress = cp.BackfillAssetProgress(key=convert.key_proto(asset), counts=counts)
    if not keys:
        return progress  # unpartitioned: the counts say it all
    runs: list[tuple[int, int, cp.BackfillPartitionState]] = []
    for i, state in enumerate(states):
        if runs and runs[-1][2] == state:
            runs[-1] = (runs[-1][0], i + 1, state)
        else:
            runs.append((i, i + 1, state))
    most = min(buckets or MAX_EXACT_RANGES, MAX_EXACT_RANGES)
    if len(runs) > most:
        runs = merge_state_runs(runs, len(states), most, _URGENT, MATERIALIZED, REQUESTED)
        progress.merged = True
    progress.ranges.extend(
        cp.BackfillPartitionRange(
            start=start, end=end, state=state, start_key=keys[start], end_key=keys[end - 1]
        )
        for start, end, state in runs
    )
    return progress
