"""The interface of a partition mapping, and the checks every mapping shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import UTC, datetime

from weir._errors import DefinitionError, PartitionKeyError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition

PartitionKeys = str | Iterable[str] | None


class PartitionMapping(ABC):
    """How the partitions of an asset relate to the partitions of an upstream asset.

    A mapping answers both ways: which upstream partitions a downstream partition reads
    (`get_upstream_partitions`), and which downstream partitions an upstream partition
    feeds (`get_downstream_partitions`). Keys go in as one key or several; keys come back
    as a list in the target definition's order, each once. An unpartitioned asset has no
    keys: pass None for its definition and its keys, and expect [] for it.

    Mappings are plain data (frozen dataclasses: their constructor arguments are their
    fields, and they compare by value), so a code server can describe them on the wire and
    the control plane can evaluate them without user code. That is also why only the
    built-in mappings are supported.
    """

    def validate_partition_mapping(  # noqa: B027  (a hook: by default any pair will do)
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Raise `DefinitionError` if this mapping cannot relate these two definitions."""

    def get_upstream_partitions(
        self,
        downstream_partition_keys: PartitionKeys,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The upstream keys that the given downstream partitions depend on.

        Raises `PartitionKeyError` if a downstream key is unknown, or if partitions the
        downstream ones need do not exist upstream (yet).
        """
        self.validate_partition_mapping(upstream_partitions_def, downstream_partitions_def)
        now = _pin(current_time)
        keys = _checked_keys(
            downstream_partition_keys, downstream_partitions_def, "downstream", now,
            dynamic_partitions_store,
        )  # fmt: skip
        return self._upstream(
            keys, downstream_partitions_def, upstream_partitions_def, now, dynamic_partitions_store
        )

    def get_downstream_partitions(
        self,
        upstream_partition_keys: PartitionKeys,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The existing downstream keys that depend on the given upstream partitions.

        Raises `PartitionKeyError` if an upstream key is unknown.
        """
        self.validate_partition_mapping(upstream_partitions_def, downstream_partitions_def)
        now = _pin(current_time)
        keys = _checked_keys(
            upstream_partition_keys, upstream_partitions_def, "upstream", now,
            dynamic_partitions_store,
        )  # fmt: skip
        return self._downstream(
            keys, upstream_partitions_def, downstream_partitions_def, now, dynamic_partitions_store
        )

    @abstractmethod
    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]: ...

    @abstractmethod
    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]: ...


def _pin(current_time: datetime | None) -> datetime:
    # One moment for the whole call, so both sides see the same set of time windows.
    return current_time if current_time is not None else datetime.now(UTC)


def _checked_keys(
    keys: PartitionKeys,
    defn: PartitionsDefinition | None,
    side: str,
    now: datetime,
    store: DynamicPartitionsStore | None,
) -> list[str]:
    if keys is None:
        listed: list[str] = []
    elif isinstance(keys, str):
        listed = [keys]
    else:
        listed = list(dict.fromkeys(keys))
    if defn is None:
        if listed:
            raise PartitionKeyError(f"The {side} asset is unpartitioned but got keys {listed[:5]}")
        return listed
    unknown = defn._unknown_keys(listed, now, store)
    if unknown:
        detail = defn._describe_valid_keys(unknown[0], now, store)
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise PartitionKeyError(f"Unknown {side} partition key {unknown[0]!r}{more}; {detail}")
    return listed


def require_partitioned(
    mapping: PartitionMapping,
    upstream_def: PartitionsDefinition | None,
    downstream_def: PartitionsDefinition | None,
) -> None:
    """The check of mappings that relate keys on both sides."""
    for side, defn in (("upstream", upstream_def), ("downstream", downstream_def)):
        if defn is None:
            raise DefinitionError(
                f"{type(mapping).__name__} relates partitions of two partitioned assets, but "
                f"the {side} asset is unpartitioned; depend on it without a partition mapping "
                "(every partition reads all of it) or use AllPartitionMapping()"
            )


def every_key(
    defn: PartitionsDefinition | None, now: datetime, store: DynamicPartitionsStore | None
) -> list[str]:
    return [] if defn is None else list(defn.get_partition_keys(now, store))


def missing_upstream_error(
    missing: list[str], upstream_def: PartitionsDefinition, hint: str = ""
) -> PartitionKeyError:
    shown = ", ".join(repr(k) for k in missing[:5])
    more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
    noun = "partition" if len(missing) == 1 else "partitions"
    verb = "does" if len(missing) == 1 else "do"
    return PartitionKeyError(
        f"Upstream {noun} {shown}{more} {verb} not exist in {upstream_def!r}{hint}"
    )
