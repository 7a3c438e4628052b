"""BackfillPolicy: how a backfill of a partitioned asset is split into runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from weir._errors import DefinitionError


class BackfillPolicyType(Enum):
    SINGLE_RUN = "SINGLE_RUN"
    MULTI_RUN = "MULTI_RUN"


@dataclass(frozen=True)
class BackfillPolicy:
    """How many partitions one backfill run covers.

    ``single_run()`` materializes every requested partition in one run (the asset's I/O
    manager must handle a partition range); ``multi_run(n)`` uses runs of at most n
    partitions. Without a policy, each partition gets its own run.

    >>> BackfillPolicy.multi_run(10).max_partitions_per_run
    10
    >>> BackfillPolicy.single_run().policy_type
    <BackfillPolicyType.SINGLE_RUN: 'SINGLE_RUN'>
    """

    max_partitions_per_run: int | None = 1

    def __post_init__(self) -> None:
        n = self.max_partitions_per_run
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise DefinitionError(
                f"BackfillPolicy max_partitions_per_run must be a whole number >= 1 (or use "
                f"BackfillPolicy.single_run()), got {n!r}"
            )

    @staticmethod
    def single_run() -> BackfillPolicy:
        return BackfillPolicy(max_partitions_per_run=None)

    @staticmethod
    def multi_run(max_partitions_per_run: int = 1) -> BackfillPolicy:
        return BackfillPolicy(max_partitions_per_run=max_partitions_per_run)

    @property
    def policy_type(self) -> BackfillPolicyType:
        if self.max_partitions_per_run is None:
            return BackfillPolicyType.SINGLE_RUN
        return BackfillPolicyType.MULTI_RUN
