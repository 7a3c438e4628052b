"""Mappings that relate keys by name or by rule: identity, all, last, specific, static."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from weir._errors import DefinitionError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition
from weir._partitions.mappings.base import (
    PartitionMapping,
    every_key,
    missing_upstream_error,
    require_partitioned,
)
from weir._partitions.static import StaticPartitionsDefinition


@dataclass(frozen=True)
class IdentityPartitionMapping(PartitionMapping):
    """Each downstream partition reads the upstream partition with the same key.

    >>> from weir import StaticPartitionsDefinition
    >>> regions = StaticPartitionsDefinition(["eu", "us"])
    >>> IdentityPartitionMapping().get_upstream_partitions("eu", regions, regions)
    ['eu']
    """

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        require_partitioned(self, upstream_partitions_def, downstream_partitions_def)

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert upstream_def is not None
        missing = upstream_def._unknown_keys(downstream_keys, now, store)
        if missing:
            raise missing_upstream_error(missing, upstream_def)
        return upstream_def._sort_keys(downstream_keys, now, store)

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert downstream_def is not None
        absent = set(downstream_def._unknown_keys(upstream_keys, now, store))
        return downstream_def._sort_keys([k for k in upstream_keys if k not in absent], now, store)


@dataclass(frozen=True)
class AllPartitionMapping(PartitionMapping):
    """Every downstream partition reads every upstream partition.

    The default when either asset is unpartitioned.
    """

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        return every_key(upstream_def, now, store)

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        # An unpartitioned upstream asset is one unit that every partition reads.
        feeds_any = bool(upstream_keys) or upstream_def is None
        return every_key(downstream_def, now, store) if feeds_any else []


@dataclass(frozen=True)
class LastPartitionMapping(PartitionMapping):
    """Every downstream partition reads the last upstream partition (as of now)."""

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        if upstream_partitions_def is None:
            raise DefinitionError("LastPartitionMapping needs a partitioned upstream asset")

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert upstream_def is not None
        last = upstream_def.get_last_partition_key(now, store)
        return [last] if last is not None else []

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert upstream_def is not None
        last = upstream_def.get_last_partition_key(now, store)
        return every_key(downstream_def, now, store) if last in upstream_keys else []


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

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        if upstream_partitions_def is None:
            raise DefinitionError(
                "SpecificPartitionsPartitionMapping needs a partitioned upstream asset"
            )
        if isinstance(upstream_partitions_def, StaticPartitionsDefinition):
            unknown = [
                k for k in self.partition_keys if not upstream_partitions_def.has_partition_key(k)
            ]
            if unknown:
                raise DefinitionError(
                    f"SpecificPartitionsPartitionMapping names keys {unknown} that the upstream "
                    f"{upstream_partitions_def!r} does not have"
                )

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert upstream_def is not None
        missing = upstream_def._unknown_keys(self.partition_keys, now, store)
        if missing:
            raise missing_upstream_error(missing, upstream_def)
        return upstream_def._sort_keys(self.partition_keys, now, store)

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        if set(upstream_keys).isdisjoint(self.partition_keys):
            return []
        return every_key(downstream_def, now, store)


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

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        require_partitioned(self, upstream_partitions_def, downstream_partitions_def)
        table = self.downstream_partition_keys_by_upstream_partition_key
        for side, defn, keys in (
            ("upstream", upstream_partitions_def, set(table)),
            ("downstream", downstream_partitions_def, {d for ds in table.values() for d in ds}),
        ):
            if isinstance(defn, StaticPartitionsDefinition):
                unknown = sorted(k for k in keys if not defn.has_partition_key(k))
                if unknown:
                    raise DefinitionError(
                        f"StaticPartitionMapping names {side} keys {unknown} that {defn!r} "
                        "does not have"
                    )

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert upstream_def is not None
        wanted = set(downstream_keys)
        table = self.downstream_partition_keys_by_upstream_partition_key
        ups = [up for up, downs in table.items() if wanted.intersection(downs)]
        missing = upstream_def._unknown_keys(ups, now, store)
        if missing:
            raise missing_upstream_error(missing, upstream_def)
        return upstream_def._sort_keys(ups, now, store)

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        assert downstream_def is not None
        table = self.downstream_partition_keys_by_upstream_partition_key
        downs = {d for up in upstream_keys for d in table.get(up, ())}
        absent = set(downstream_def._unknown_keys(downs, now, store))
        return downstream_def._sort_keys(downs - absent, now, store)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StaticPartitionMapping)
            and other.downstream_partition_keys_by_upstream_partition_key
            == self.downstream_partition_keys_by_upstream_partition_key
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.downstream_partition_keys_by_upstream_partition_key.items())))
