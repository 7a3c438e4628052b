"""A backfill policy, and an asset's target partitions cut into the runs it allows.

A run covers either one partition or a range: consecutive keys of one key space, which the
code location reads back with the same engine (``get_partition_keys_in_range``). Keys with
a gap between them never share a run. A multi-dimensional range means every combination of
each dimension's own range, not consecutive keys, so multi-partitioned keys run one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from weir_partitions import KeySpace, StaticKeySpace, TimeWindowKeySpace
from weir_protos.v1 import definitions_pb2

from weir_controlplane.errors import FailedPreconditionError


@dataclass(frozen=True)
class RunPolicy:
    """At most `max_partitions` partitions per run; None: all of them in one run."""

    max_partitions: int | None = 1

    @classmethod
    def of(cls, node: definitions_pb2.AssetNode, label: str) -> RunPolicy:
        """The asset's `BackfillPolicy` (unset: one run per partition)."""
        kind = node.backfill_policy.WhichOneof("kind")
        if kind == "single_run":
            return cls(None)
        if kind == "multi_run":
            most = node.backfill_policy.multi_run.max_partitions_per_run
            if most < 1:
                raise FailedPreconditionError(
                    f"asset {label!r} has a backfill policy of at most {most} partitions per "
                    "run; it must be 1 or more (or single_run)"
                )
            return cls(most)
        return cls(1)


def chunks(keys: Sequence[str], space: KeySpace, policy: RunPolicy) -> list[list[str]]:
    """`keys` (in `space`'s order) cut into runs: runs of consecutive keys, each of at most
    the policy's number of partitions."""
    follows = _follows(space)
    most = policy.max_partitions if follows is not None else 1
    runs: list[list[str]] = []
    for key in keys:
        current = runs[-1] if runs else None
        if (
            current is not None
            and follows is not None
            and (most is None or len(current) < most)
            and follows(current[-1], key)
        ):
            current.append(key)
        else:
            runs.append([key])
    return runs


def _follows(space: KeySpace) -> Callable[[str, str], bool] | None:
    """Whether key b comes right after key a in `space`; None where runs hold one key."""
    if isinstance(space, TimeWindowKeySpace):
        clock = space.clock

        def next_window(a: str, b: str) -> bool:
            return clock.next_tick(space.require_tick(a) + 1) == space.require_tick(b)

        return next_window
    if isinstance(space, StaticKeySpace):
        position = space.position
        return lambda a, b: position[b] == position[a] + 1
    # Multi-dimensional ranges are products, not consecutive keys (see above); dynamic keys
    # are in the store's order, which the run's code location may not share.
    return None
