"""The interface every partitions definition implements."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

from weir._errors import PartitionKeyError
from weir._partitions.loading_context import effective_time

if TYPE_CHECKING:
    from weir_partitions import KeySpace


class PartitionKeyRange(NamedTuple):
    """An inclusive range of partition keys, from `start` to `end`.

    >>> PartitionKeyRange("2024-01-01", "2024-01-31").end
    '2024-01-31'
    """

    start: str
    end: str


@runtime_checkable
class DynamicPartitionsStore(Protocol):
    """Where the keys of `DynamicPartitionsDefinition`s live at run time.

    The control plane keeps them in its database; tests and in-process runs can use
    `InMemoryDynamicPartitionsStore`.
    """

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]: ...

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool: ...


class PartitionsDefinition(ABC):
    """The set of partition keys of an asset.

    Every kind (static, time-window, dynamic, multi-dimensional) answers the same
    questions. `current_time` lets time-based ones answer for a given moment (default:
    now); `dynamic_partitions_store` supplies the keys of dynamic ones.
    """

    @abstractmethod
    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """Every key, in order."""

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        return key in self.get_partition_keys(current_time, dynamic_partitions_store)

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self.get_partition_keys(current_time, dynamic_partitions_store))

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[0] if keys else None

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[-1] if keys else None

    def get_partition_keys_in_range(
        self,
        start: str | PartitionKeyRange,
        end: str | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys from `start` to `end`, both included (or one `PartitionKeyRange`).

        >>> from weir import StaticPartitionsDefinition
        >>> StaticPartitionsDefinition(["a", "b", "c", "d"]).get_partition_keys_in_range("b", "c")
        ['b', 'c']
        """
        first, last = range_ends(start, end)
        keys = list(self.get_partition_keys(current_time, dynamic_partitions_store))
        positions = {k: i for i, k in enumerate(keys)}
        for key in (first, last):
            if key not in positions:
                self.validate_partition_key(key, "", current_time, dynamic_partitions_store)
        if positions[first] > positions[last]:
            raise PartitionKeyError(f"Partition key range {first!r}..{last!r} runs backwards")
        return keys[positions[first] : positions[last] + 1]

    def validate_partition_key(
        self,
        key: str,
        asset_label: str = "",
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> None:
        """Raise `PartitionKeyError` naming the asset and showing valid keys if `key` is unknown."""
        if isinstance(key, str) and self.has_partition_key(
            key, current_time, dynamic_partitions_store
        ):
            return
        where = f" of asset '{asset_label}'" if asset_label else ""
        detail = self._describe_valid_keys(key, current_time, dynamic_partitions_store)
        raise PartitionKeyError(f"Unknown partition key {key!r}{where}; {detail}")

    def _describe_valid_keys(
        self,
        key: str,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> str:
        """The end of an unknown-key message: what the valid keys look like."""
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        sample = ", ".join(repr(k) for k in list(keys)[:5])
        more = f" (and {len(keys) - 5} more)" if len(keys) > 5 else ""
        return f"valid keys are {sample}{more}" if keys else "it has no partitions yet"

    def _unknown_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        """The keys among `keys` this definition does not have (checked in bulk)."""
        has = self.has_partition_key
        return [k for k in keys if not has(k, current_time, dynamic_partitions_store)]

    def _sort_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        """`keys` (all of them keys of this definition) once each, in definition order."""
        wanted = set(keys)
        every_key = self.get_partition_keys(current_time, dynamic_partitions_store)
        return [k for k in every_key if k in wanted]

    def _key_space(
        self,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> KeySpace:
        """The keys as the partitions engine's key space, which partition mappings read
        (the built-in definitions keep theirs; any other lists its keys)."""
        from weir_partitions import StaticKeySpace

        return StaticKeySpace(list(self.get_partition_keys(current_time, dynamic_partitions_store)))


def engine_time(current_time: datetime | None, *spaces: KeySpace | None) -> float:
    """`current_time` as the engine's POSIX seconds (default: now). A naive time is read in
    the time zone of the first time window among `spaces`, as that definition reads it."""
    current_time = effective_time(current_time)
    if current_time is None:
        return time.time()
    if current_time.tzinfo is not None:
        return current_time.timestamp()
    from weir_partitions import MultiKeySpace, TimeWindowKeySpace

    for space in spaces:
        parts = space.dimensions if isinstance(space, MultiKeySpace) else [("", space)]
        for _, part in parts:
            if isinstance(part, TimeWindowKeySpace):
                return current_time.replace(tzinfo=part.tz).timestamp()
    return current_time.replace(tzinfo=UTC).timestamp()


def range_ends(start: str | PartitionKeyRange, end: str | None) -> tuple[str, str]:
    if isinstance(start, PartitionKeyRange):
        if end is not None:
            raise TypeError("pass either a PartitionKeyRange or start and end keys, not both")
        return start.start, start.end
    if end is None:
        raise TypeError("get_partition_keys_in_range needs an end key")
    return start, end
