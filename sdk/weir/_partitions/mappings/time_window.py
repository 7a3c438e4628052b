"""Mapping time windows to the overlapping time windows of another schedule, with offsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from weir._errors import DefinitionError
from weir._partitions.mappings.base import PartitionMapping

if TYPE_CHECKING:
    from weir_partitions.mappings import KeyMapping


@dataclass(frozen=True)
class TimeWindowPartitionMapping(PartitionMapping):
    """A downstream window reads every upstream window that overlaps it.

    Same schedules: the identity. A coarser upstream (daily feeding hourly): each hour reads
    its day. A finer upstream (hourly feeding daily): each day reads its 24 hours.

    `start_offset` and `end_offset` move the start and end of the downstream window by
    that many downstream windows before matching: ``start_offset=-1`` makes day D read
    days D-1 and D (a rolling window, or an asset that reads its own previous partition).
    Offsets never reach past the first or last upstream partition; upstream windows the
    downstream one needs that do not exist raise `PartitionKeyError`, unless
    `allow_nonexistent_upstream_partitions` is set, in which case they are left out.

    >>> from weir import DailyPartitionsDefinition
    >>> days = DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")
    >>> TimeWindowPartitionMapping(start_offset=-1).get_upstream_partitions(
    ...     "2024-01-10", days, days
    ... )
    ['2024-01-09', '2024-01-10']
    """

    start_offset: int = 0
    end_offset: int = 0
    allow_nonexistent_upstream_partitions: bool = False

    def __post_init__(self) -> None:
        for name in ("start_offset", "end_offset"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise DefinitionError(f"TimeWindowPartitionMapping {name} must be an int")
        if not isinstance(self.allow_nonexistent_upstream_partitions, bool):
            raise DefinitionError(
                "TimeWindowPartitionMapping allow_nonexistent_upstream_partitions must be a bool"
            )

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import TimeWindowMapping

        return TimeWindowMapping(
            self.start_offset, self.end_offset, self.allow_nonexistent_upstream_partitions
        )
