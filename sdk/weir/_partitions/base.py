"""The interface every partitions definition implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from weir._errors import PartitionKeyError


class PartitionsDefinition(ABC):
    """The set of partition keys of an asset.

    Time-window, dynamic and multi-dimensional definitions implement the same interface;
    `current_time` lets time-based ones answer for a given moment.
    """

    @abstractmethod
    def get_partition_keys(self, current_time: datetime | None = None) -> Sequence[str]: ...

    def has_partition_key(self, key: str, current_time: datetime | None = None) -> bool:
        return key in self.get_partition_keys(current_time)

    def validate_partition_key(self, key: str, asset_label: str = "") -> None:
        """Raise `PartitionKeyError` naming the asset and showing valid keys if `key` is unknown."""
        if self.has_partition_key(key):
            return
        keys = self.get_partition_keys()
        sample = ", ".join(repr(k) for k in list(keys)[:5])
        more = f" (and {len(keys) - 5} more)" if len(keys) > 5 else ""
        where = f" of asset '{asset_label}'" if asset_label else ""
        raise PartitionKeyError(
            f"Unknown partition key {key!r}{where}; valid keys are {sample}{more}"
        )
