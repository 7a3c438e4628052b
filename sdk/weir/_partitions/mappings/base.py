"""The interface of a partition mapping; each built-in one stands for a mapping of the
partitions engine (`weir_partitions.mappings`), which both the SDK and the control plane
evaluate."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from weir._errors import DefinitionError, PartitionKeyError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition, engine_time
from weir._partitions.loading_context import effective_time

if TYPE_CHECKING:
    from weir_partitions import KeySpace
    from weir_partitions.mappings import KeyMapping

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
    the control plane can evaluate them without user code, with the same engine. That is
    also why only the built-in mappings are supported.
    """

    @abstractmethod
    def _rule(self) -> KeyMapping:
        """The engine's mapping this one stands for."""

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition | None,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Raise `DefinitionError` if this mapping cannot relate these two definitions."""
        up = _space(upstream_partitions_def, None, None)
        down = _space(downstream_partitions_def, None, None)
        with _sdk_errors():
            self._rule().validate(up, down)

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
        return self._map(
            True, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def,
            current_time, dynamic_partitions_store,
        )  # fmt: skip

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
        return self._map(
            False, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def,
            current_time, dynamic_partitions_store,
        )  # fmt: skip

    def _map(
        self,
        to_upstream: bool,
        keys: PartitionKeys,
        source_def: PartitionsDefinition | None,
        target_def: PartitionsDefinition | None,
        current_time: datetime | None,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        """`keys` of `source_def` mapped by the engine onto keys of `target_def`."""
        now = _pin(current_time)
        source, target = _space(source_def, now, store), _space(target_def, now, store)
        rule = self._rule()
        method = rule.upstream_keys if to_upstream else rule.downstream_keys
        downstream_first = (source, target) if to_upstream else (target, source)
        with _sdk_errors():
            mapped = method(keys, source, target, engine_time(now, *downstream_first))
        return _typed(mapped, target_def)


def _pin(current_time: datetime | None) -> datetime:
    # One moment for the whole call, so both sides see the same set of time windows.
    current_time = effective_time(current_time)
    return current_time if current_time is not None else datetime.now(UTC)


def _space(
    defn: PartitionsDefinition | None, now: datetime | None, store: DynamicPartitionsStore | None
) -> KeySpace | None:
    return None if defn is None else defn._key_space(now, store)


def _typed(keys: list[str], defn: PartitionsDefinition | None) -> list[str]:
    """Keys of a multi-partitioned definition as `MultiPartitionKey`s, as it lists them."""
    from weir._partitions.multi import MultiPartitionsDefinition

    if isinstance(defn, MultiPartitionsDefinition):
        return [defn.get_partition_key_from_str(k) for k in keys]
    return keys


@contextmanager
def _sdk_errors() -> Iterator[None]:
    """The engine's errors as the SDK's, the message unchanged: DefinitionError for a mapping
    that cannot relate the definitions, DynamicPartitionsStoreError when a store's keys are
    needed but none was given, PartitionKeyError for keys."""
    from weir_partitions import DynamicKeysUnknownError, MappingError, PartitionsError

    from weir._partitions.dynamic import store_needed

    try:
        yield
    except MappingError as e:
        raise DefinitionError(str(e)) from None
    except DynamicKeysUnknownError as e:
        raise store_needed(e.name) from None
    except PartitionsError as e:
        raise PartitionKeyError(str(e)) from None
