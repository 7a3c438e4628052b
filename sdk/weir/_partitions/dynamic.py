"""Partitions whose keys are added and removed at run time (by sensors or the API)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from weir._automation.run_request import (
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
)
from weir._errors import DefinitionError, DynamicPartitionsStoreError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition
from weir._partitions.loading_context import effective_store

if TYPE_CHECKING:
    from weir_partitions import DynamicKeySpace

_NAME = re.compile(r"[A-Za-z0-9_]+")


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Partitions whose keys live in a store, keyed by the definition's `name`.

    Sensors add and remove keys by returning `build_add_request(...)` /
    `build_delete_request(...)`; the control plane keeps them. Code asks for them with
    ``get_partition_keys(dynamic_partitions_store=...)``.

    Without a store there is no list to check against: `has_partition_key` (and so
    in-process ``weir.materialize(..., partition_key=...)``) accepts any non-empty key,
    while `get_partition_keys` raises `DynamicPartitionsStoreError`.

    >>> fruits = DynamicPartitionsDefinition(name="fruits")
    >>> fruits.build_add_request(["apple"]).partition_keys
    ('apple',)
    >>> store = InMemoryDynamicPartitionsStore({"fruits": ["apple", "pear"]})
    >>> fruits.get_partition_keys(dynamic_partitions_store=store)
    ['apple', 'pear']
    """

    def __init__(
        self,
        partition_fn: Callable[[datetime | None], Sequence[str]] | str | None = None,
        name: str | None = None,
    ):
        if isinstance(partition_fn, str) and name is None:
            partition_fn, name = None, partition_fn  # DynamicPartitionsDefinition("fruits")
        if (partition_fn is None) == (name is None):
            raise DefinitionError(
                "DynamicPartitionsDefinition needs exactly one of name (keys kept in a store) "
                "or partition_fn (keys computed by a function)"
            )
        if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
            raise DefinitionError(
                f"Dynamic partitions name {name!r} must be letters, digits and underscores"
            )
        if partition_fn is not None and not callable(partition_fn):
            raise DefinitionError(f"partition_fn must be callable, got {partition_fn!r}")
        self.name = name
        self.partition_fn = partition_fn

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        dynamic_partitions_store = effective_store(dynamic_partitions_store)
        if self.partition_fn is not None:
            return list(self.partition_fn(current_time))
        if dynamic_partitions_store is None:
            raise store_needed(self.name)  # type: ignore[arg-type]
        return list(dynamic_partitions_store.get_dynamic_partitions(self.name))  # type: ignore[arg-type]

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        dynamic_partitions_store = effective_store(dynamic_partitions_store)
        if not isinstance(key, str) or not key:
            return False
        if self.partition_fn is not None:
            return key in self.partition_fn(current_time)
        if dynamic_partitions_store is None:
            return True  # nothing to check against: see the class docstring
        return dynamic_partitions_store.has_dynamic_partition(self.name, key)  # type: ignore[arg-type]

    def build_add_request(self, partition_keys: Iterable[str]) -> AddDynamicPartitionsRequest:
        """A request, returned from a sensor, that adds `partition_keys` to this definition."""
        return AddDynamicPartitionsRequest(self._require_name(), _checked_keys(partition_keys))

    def build_delete_request(self, partition_keys: Iterable[str]) -> DeleteDynamicPartitionsRequest:
        """A request, returned from a sensor, that removes `partition_keys`."""
        return DeleteDynamicPartitionsRequest(self._require_name(), _checked_keys(partition_keys))

    def _require_name(self) -> str:
        if self.name is None:
            raise DefinitionError(
                "Only a named DynamicPartitionsDefinition takes add/delete requests"
            )
        return self.name

    def _describe_valid_keys(
        self,
        key: str,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> str:
        if not isinstance(key, str) or not key:
            return "partition keys are non-empty strings"
        label = f"dynamic partitions {self.name!r}" if self.name else "the partition_fn"
        return f"it is not one of the keys of {label}; " + super()._describe_valid_keys(
            key, current_time, dynamic_partitions_store
        )

    def _key_space(
        self,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> DynamicKeySpace:
        from weir_partitions import DynamicKeySpace

        dynamic_partitions_store = effective_store(dynamic_partitions_store)
        if self.partition_fn is not None:
            return DynamicKeySpace("", self.partition_fn(current_time), label="the partition_fn")
        assert self.name is not None
        if dynamic_partitions_store is None:
            return DynamicKeySpace(self.name)  # any key passes; listing raises store_needed
        return DynamicKeySpace(
            self.name, dynamic_partitions_store.get_dynamic_partitions(self.name)
        )

    def _sort_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        dynamic_partitions_store = effective_store(dynamic_partitions_store)
        if self.partition_fn is None and dynamic_partitions_store is None:
            return sorted(set(keys))  # no store to give the order: a stable one
        return super()._sort_keys(keys, current_time, dynamic_partitions_store)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DynamicPartitionsDefinition)
            and other.name == self.name
            and other.partition_fn == self.partition_fn
        )

    def __hash__(self) -> int:
        return hash((self.name, self.partition_fn))

    def __repr__(self) -> str:
        if self.name is not None:
            return f"DynamicPartitionsDefinition(name={self.name!r})"
        return f"DynamicPartitionsDefinition(partition_fn={self.partition_fn!r})"


class InMemoryDynamicPartitionsStore:
    """A `DynamicPartitionsStore` in a dict: for tests and in-process runs.

    >>> store = InMemoryDynamicPartitionsStore()
    >>> store.add_dynamic_partitions("fruits", ["apple", "pear", "apple"])
    >>> store.get_dynamic_partitions("fruits")
    ['apple', 'pear']
    """

    def __init__(self, partitions: Mapping[str, Iterable[str]] | None = None):
        self._keys: dict[str, dict[str, None]] = {}
        for name, keys in (partitions or {}).items():
            self.add_dynamic_partitions(name, keys)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return list(self._keys.get(partitions_def_name, {}))

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self._keys.get(partitions_def_name, {})

    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Iterable[str]
    ) -> None:
        keys = self._keys.setdefault(partitions_def_name, {})
        for key in _checked_keys(partition_keys):
            keys[key] = None  # a dict keeps insertion order: keys list in the order added

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._keys.get(partitions_def_name, {}).pop(partition_key, None)

    def apply(self, request: AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest) -> None:
        """Carry out a request a sensor returned."""
        if isinstance(request, AddDynamicPartitionsRequest):
            self.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                self.delete_dynamic_partition(request.partitions_def_name, key)


def store_needed(name: str) -> DynamicPartitionsStoreError:
    return DynamicPartitionsStoreError(
        f"The keys of dynamic partitions {name!r} live in a store; pass "
        "dynamic_partitions_store= (e.g. an InMemoryDynamicPartitionsStore in tests)"
    )


def _checked_keys(partition_keys: Iterable[str]) -> list[str]:
    if isinstance(partition_keys, str):
        raise DefinitionError(f"Pass a list of partition keys, not the string {partition_keys!r}")
    keys = list(partition_keys)
    bad = [k for k in keys if not isinstance(k, str) or not k]
    if bad:
        raise DefinitionError(f"Partition keys must be non-empty strings, got {bad!r}")
    return keys
