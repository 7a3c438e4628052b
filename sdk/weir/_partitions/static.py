"""A fixed list of partition keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from weir_partitions.errors import KeySpaceError
from weir_partitions.key_spaces import StaticKeySpace

from weir._errors import DefinitionError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition


class StaticPartitionsDefinition(PartitionsDefinition):
    """Partitions from a fixed list of keys.

    >>> regions = StaticPartitionsDefinition(["eu", "us"])
    >>> regions.get_partition_keys()
    ['eu', 'us']
    """

    def __init__(self, partition_keys: Sequence[str]):
        try:
            space = StaticKeySpace(list(partition_keys))
        except KeySpaceError as e:
            raise DefinitionError(str(e)) from None
        self._space = space
        self._keys = space.key_list
        self._position = space.position

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._keys)

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        return key in self._position

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self._keys)

    def _unknown_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        return [k for k in keys if k not in self._position]

    def _sort_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        return sorted(set(keys), key=self._position.__getitem__)

    def _key_space(
        self,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> StaticKeySpace:
        return self._space

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitionsDefinition) and other._space == self._space

    def __hash__(self) -> int:
        return hash(self._space)

    def __repr__(self) -> str:
        return repr(self._space)
