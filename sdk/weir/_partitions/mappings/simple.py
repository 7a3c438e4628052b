"""Mappings that relate keys by name or by rule: identity, all, last, specific, static."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from weir._errors import DefinitionError
from weir._partitions.mappings.base import PartitionMapping

if TYPE_CHECKING:
    from weir_partitions.mappings import KeyMapping


@dataclass(frozen=True)
class IdentityPartitionMapping(PartitionMapping):
    """Each downstream partition reads the upstream partition with the same key.

    >>> from weir import StaticPartitionsDefinition
    >>> regions = StaticPartitionsDefinition(["eu", "us"])
    >>> IdentityPartitionMapping().get_upstream_partitions("eu", regions, regions)
    ['eu']
    """

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import IdentityMapping

        return IdentityMapping()


@dataclass(frozen=True)
class AllPartitionMapping(PartitionMapping):
    """Every downstream partition reads every upstream partition.

    The default when either asset is unpartitioned.
    """

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import AllMapping

        return AllMapping()


@dataclass(frozen=True)
class LastPartitionMapping(PartitionMapping):
    """Every downstream partition reads the last upstream partition (as of now)."""

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import LastMapping

        return LastMapping()


@dataclass(frozen=True)
class SpecificPartitionsPartitionMapping(PartitionMapping):
    """Every downstream partition reads the same fixed upstream partitions.

    >>> from weir import StaticPartitionsDefinition
    >>> up = StaticPartitionsDefinition(["a", "b", "c"])
    >>> SpecificPartitionsPartitionMapping(["c", "a"]).get_upstream_partitions(None, None, up)
    ['a', 'c']
    """

    partition_keys: tuple[str, ...]

    def __init__(self, partition_keys: Sequence[str]):
        keys = [partition_keys] if isinstance(partition_keys, str) else list(partition_keys)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise DefinitionError(
                f"SpecificPartitionsPartitionMapping needs non-empty string keys, got {keys!r}"
            )
        object.__setattr__(self, "partition_keys", tuple(keys))

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import SpecificKeysMapping

        return SpecificKeysMapping(self.partition_keys)


@dataclass(frozen=True, eq=False)
class StaticPartitionMapping(PartitionMapping):
    """An explicit table from upstream keys to the downstream key(s) they feed.

    >>> from weir import StaticPartitionsDefinition
    >>> up = StaticPartitionsDefinition(["eu-1", "eu-2", "us-1"])
    >>> down = StaticPartitionsDefinition(["eu", "us"])
    >>> mapping = StaticPartitionMapping({"eu-1": "eu", "eu-2": "eu", "us-1": "us"})
    >>> mapping.get_upstream_partitions("eu", down, up)
    ['eu-1', 'eu-2']
    """

    downstream_partition_keys_by_upstream_partition_key: Mapping[str, tuple[str, ...]]

    def __init__(
        self,
        downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]],
    ):
        table: dict[str, tuple[str, ...]] = {}
        for up, down in dict(downstream_partition_keys_by_upstream_partition_key).items():
            downs = (down,) if isinstance(down, str) else tuple(down)
            if not isinstance(up, str) or not all(isinstance(d, str) for d in downs):
                raise DefinitionError(
                    f"StaticPartitionMapping maps str keys to str keys, got {up!r}: {down!r}"
                )
            table[up] = downs
        object.__setattr__(self, "downstream_partition_keys_by_upstream_partition_key", table)

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import StaticMapping

        return StaticMapping.of(self.downstream_partition_keys_by_upstream_partition_key)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StaticPartitionMapping)
            and other.downstream_partition_keys_by_upstream_partition_key
            == self.downstream_partition_keys_by_upstream_partition_key
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.downstream_partition_keys_by_upstream_partition_key.items())))
