"""Partition RPCs: GetPartitionStatus, GetPartitionKeys and the dynamic partitions API.

Partitions are numbered 0..n-1 in key order: time windows and static keys by position
(`weir_partitions`, arithmetic for a million hourly windows), dynamic keys by the order
they were added; a multi definition whose minor dimensions grow (dynamic, or a second
time window) by those dimensions' keys of now, and a change to them renumbers it (the
stored status is rebuilt by key). `SnapshotPartitionIndex` gives event ingest that
numbering from the code locations' snapshots, so partition status is kept in the events'
transaction; a status read is then one stored row and a few set operations. A multi
definition with a dynamic dimension is numbered by the store's keys of the moment, at
ingest as at a read, so both agree on its fingerprint.
"""

from __future__ import annotations

import hashlib
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from weir_partitions import (
    CarryOver,
    IndexedKeySpace,
    IndexRanges,
    KeySpace,
    MultiKeySpace,
    StaticKeySpace,
    TimeWindowKeySpace,
    UnknownPartitionKeyError,
    carry_over,
    numbering_of,
)
from weir_protos.v1 import common_pb2, definitions_pb2, partitions_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert
from weir_controlplane.api.access_checks import visible_locations
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.context import current_scope
from weir_controlplane.api.partition_ranges import DisplayedStatus, merge_runs
from weir_controlplane.errors import (
    ApiError,
    InvalidArgumentError,
    NotFoundError,
)
from weir_controlplane.locations import CodeLocationRegistry, SnapshotGraph
from weir_controlplane.partitions import DynamicSpaces, space_of
from weir_controlplane.partitions.wire import has_dynamic_keys
from weir_controlplane.storage import (
    DeploymentScope,
    DynamicPartitionStorage,
    IndexedPartitions,
    PartitionStatusStorage,
    StorageError,
)

MAX_KEYS_PAGE = 10_000
MAX_DYNAMIC_KEYS_PER_REQUEST = 10_000
MAX_DYNAMIC_KEY_BYTES = 1024
# Exact runs beyond this many come merged, so a reply stays small.
MAX_EXACT_RANGES = 10_000

# The keys at some partition indexes.
_KeysAt = Callable[[Sequence[int]], dict[int, str]]


class PartitionsApi:
    """Answers the partition RPCs of ControlPlaneService for the request's deployment."""

    def __init__(
        self,
        registry: CodeLocationRegistry,
        status: PartitionStatusStorage,
        dynamic: DynamicPartitionStorage,
    ) -> None:
        self._registry = registry
        self._status = status
        self._dynamic = dynamic

    def dynamic_spaces(self, scope: DeploymentScope) -> DynamicSpaces:
        """Key spaces of dynamic definitions backed by the deployment's store."""
        return lambda name: StoredDynamicKeySpace(self._dynamic, scope, name)

    # --- status and keys ----------------------------------------------------------------

    def get_partition_status(
        self, request: cp.GetPartitionStatusRequest
    ) -> cp.GetPartitionStatusResponse:
        scope = current_scope()
        key, node = self._partitioned_node(scope, request.key)
        dynamic = self.dynamic_spaces(scope)
        partitions = indexed_partitions(node, dynamic)
        assert partitions is not None  # with the store's dynamic keys, every space numbers
        stored = self._status.get(scope, key, partitions)
        now = time.time()
        if partitions.dynamic_name is not None:
            live = self._dynamic.live_ordinals(scope, partitions.dynamic_name)
            total = len(live)
            sets = (
                _positions(stored.materialized, live),
                _positions(stored.failed, live),
                _positions(stored.in_progress, live),
            )
            key_at = self._dynamic_key_at(scope, partitions.dynamic_name, live)
        else:
            space = _numbered(node, dynamic)
            total = space.count(now)
            sets = (stored.materialized, stored.failed, stored.in_progress)

            def key_at(positions: Sequence[int]) -> dict[int, str]:
                return {p: space.key_at(p) for p in positions}

        status = DisplayedStatus.of(total, *sets)
        runs = status.runs()
        buckets = min(request.max_buckets or MAX_EXACT_RANGES, MAX_EXACT_RANGES)
        merged = len(runs) > buckets
        if merged:
            runs = merge_runs(runs, total, buckets)
        ends = sorted({i for start, end, _ in runs for i in (start, end - 1)})
        keys = key_at(ends)
        return cp.GetPartitionStatusResponse(
            counts=status.counts(),
            ranges=[
                cp.PartitionRange(
                    start=start, end=end, state=state, start_key=keys[start], end_key=keys[end - 1]
                )
                for start, end, state in runs
            ],
            merged=merged,
        )

    def get_partition_keys(
        self, request: cp.GetPartitionKeysRequest
    ) -> cp.GetPartitionKeysResponse:
        scope = current_scope()
        _, node = self._partitioned_node(scope, request.key)
        if request.limit < 0:
            raise InvalidArgumentError("limit must be 0 (the default, 100) or more")
        limit = min(request.limit or 100, MAX_KEYS_PAGE)
        definition = node.partitions_def
        if definition.WhichOneof("kind") == "dynamic":
            name = definition.dynamic.name
            total = len(self._dynamic.live_ordinals(scope, name))
            page = (
                self._dynamic.keys_from(scope, name, request.offset, limit)
                if request.offset < total
                else []
            )
        else:
            space = _numbered(node, self.dynamic_spaces(scope))
            now = time.time()
            total = space.count(now)
            page = space.keys_slice(request.offset, limit, now)
        return cp.GetPartitionKeysResponse(partition_keys=page, total_count=total)

    # --- dynamic partitions -------------------------------------------------------------

    def add_dynamic_partitions(
        self, request: cp.AddDynamicPartitionsRequest
    ) -> cp.AddDynamicPartitionsResponse:
        scope = current_scope()
        name = self._known_dynamic_name(scope, request.partitions_def_name)
        keys = checked_dynamic_keys(request.partition_keys)
        added = self._dynamic.add(scope, name, keys)
        return cp.AddDynamicPartitionsResponse(added_partition_keys=added)

    def delete_dynamic_partitions(
        self, request: cp.DeleteDynamicPartitionsRequest
    ) -> cp.DeleteDynamicPartitionsResponse:
        scope = current_scope()
        name = self._known_dynamic_name(scope, request.partitions_def_name)
        keys = checked_dynamic_keys(request.partition_keys)
        deleted = self._dynamic.delete(scope, name, keys)
        return cp.DeleteDynamicPartitionsResponse(deleted_partition_keys=deleted)

    def list_dynamic_partitions(
        self, request: cp.ListDynamicPartitionsRequest
    ) -> cp.ListDynamicPartitionsResponse:
        scope = current_scope()
        name = self._known_dynamic_name(scope, request.partitions_def_name)
        if request.limit < 0:
            raise InvalidArgumentError("limit must be 0 (the default, 100) or more")
        page = self._dynamic.list_keys(
            scope,
            name,
            cursor=request.cursor or None,
            limit=min(request.limit or 100, MAX_KEYS_PAGE),
        )
        return cp.ListDynamicPartitionsResponse(
            partition_keys=page.items, next_cursor=page.next_cursor or ""
        )

    # --- helpers ------------------------------------------------------------------------

    def _partitioned_node(
        self, scope: DeploymentScope, key_message: common_pb2.AssetKey
    ) -> tuple[str, definitions_pb2.AssetNode]:
        key = convert.key_text(key_message)
        graphs = self._registry.all_graphs(scope)
        visible = visible_locations()
        if visible is not None:  # a grant narrowed to code locations sees only theirs
            graphs = {name: graph for name, graph in graphs.items() if name in visible}
        node = DeploymentGraph.of(graphs).node(key)
        if node is None:
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment {scope.name!r}"
            )
        if not node.HasField("partitions_def"):
            raise InvalidArgumentError(f"asset {key!r} is not partitioned: it has no partitions")
        space_of(node)  # FAILED_PRECONDITION for a definition that cannot be read
        return key, node

    def _known_dynamic_name(self, scope: DeploymentScope, name: str) -> str:
        if not name:
            raise InvalidArgumentError("partitionsDefName is required")
        known = set()
        for graph in self._registry.all_graphs(scope).values():
            for node in graph.nodes.values():
                known.update(dynamic_names(node.partitions_def))
        if name not in known and not self._dynamic.has_definition(scope, name):
            listed = ", ".join(repr(n) for n in sorted(known)) or "none"
            raise NotFoundError(
                f"no code location of deployment {scope.name!r} has a dynamic partitions "
                f"definition named {name!r} (dynamic definitions: {listed})"
            )
        return name

    def _dynamic_key_at(self, scope: DeploymentScope, name: str, live: Sequence[int]) -> _KeysAt:
        def keys_at(positions: Sequence[int]) -> dict[int, str]:
            by_ordinal = self._dynamic.keys_at(scope, name, [live[p] for p in positions])
            return {p: by_ordinal[live[p]] for p in positions}

        return keys_at


class SnapshotPartitionIndex:
    """Event ingest's `PartitionIndex`: numbering from the code locations' snapshots, and
    the deployment's dynamic keys for multi definitions with a dynamic dimension."""

    def __init__(self, registry: CodeLocationRegistry, dynamic: DynamicPartitionStorage) -> None:
        self._registry = registry
        self._dynamic = dynamic

    def partitions_of(
        self, scope: DeploymentScope, code_location: str, asset_key: str
    ) -> IndexedPartitions | None:
        node = self._node(scope, code_location, asset_key)
        if node is None:
            return None
        return indexed_partitions(
            node, lambda name: StoredDynamicKeySpace(self._dynamic, scope, name)
        )

    def assets_of_step(
        self, scope: DeploymentScope, code_location: str, step_key: str
    ) -> list[str]:
        graph = self._graph(scope, code_location)
        if graph is None:
            return []
        return [key for key, node in graph.nodes.items() if node.node_name == step_key]

    def _graph(self, scope: DeploymentScope, code_location: str) -> SnapshotGraph | None:
        try:
            snapshot = self._registry.snapshot(scope, code_location)
        except (ApiError, StorageError):
            return None  # a location deleted since: status is rebuilt when next read
        return None if snapshot is None else self._registry.graph(scope, code_location)

    def _node(
        self, scope: DeploymentScope, code_location: str, asset_key: str
    ) -> definitions_pb2.AssetNode | None:
        graph = self._graph(scope, code_location)
        node = None if graph is None else graph.nodes.get(asset_key)
        if node is None or not node.HasField("partitions_def"):
            return None
        return node


class StoredDynamicKeySpace:
    """The keys of a dynamic definition as the deployment's store holds them, looked up
    one key at a time (a launch checks one key, not all of them)."""

    def __init__(self, store: DynamicPartitionStorage, scope: DeploymentScope, name: str):
        self._store, self._scope, self.name = store, scope, name

    def has_key(self, key: object, now: float = 0) -> bool:
        return isinstance(key, str) and bool(self._store.ordinals(self._scope, self.name, [key]))

    def describe_valid_keys(self, key: object, now: float = 0, as_of: str = "now") -> str:
        first = self._store.list_keys(self._scope, self.name, limit=6).items
        listed = ", ".join(repr(k) for k in first[:5]) + (" …" if len(first) > 5 else "")
        return (
            f"it is not one of the keys of dynamic partitions {self.name!r} "
            f"({'keys: ' + listed if first else 'it has no keys yet'}); add it with "
            "AddDynamicPartitions"
        )

    def validate_key(self, key: object, now: float = 0, as_of: str = "now") -> None:
        if not self.has_key(key, now):
            raise UnknownPartitionKeyError(key, self.describe_valid_keys(key, now, as_of))

    # What partition mappings ask (weir_partitions.mappings), in batches.

    def keys(self, now: float = 0) -> list[str]:
        keys: list[str] = []
        cursor = None
        while True:
            page = self._store.list_keys(self._scope, self.name, cursor=cursor)
            keys += page.items
            if page.next_cursor is None:
                return keys
            cursor = page.next_cursor

    def last_key(self, now: float = 0) -> str | None:
        ordinals = self._store.live_ordinals(self._scope, self.name)
        if not ordinals:
            return None
        return self._store.keys_at(self._scope, self.name, [ordinals[-1]])[ordinals[-1]]

    def unknown_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        listed = list(keys)
        present = self._store.ordinals(self._scope, self.name, [k for k in listed if k])
        return [k for k in listed if k not in present]

    def sort_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        ordinal = self._store.ordinals(self._scope, self.name, set(keys))
        return sorted(ordinal, key=ordinal.__getitem__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoredDynamicKeySpace) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self.name!r})"


def indexed_partitions(
    node: definitions_pb2.AssetNode, dynamic: DynamicSpaces | None = None
) -> IndexedPartitions | None:
    """How a partitioned asset numbers its keys. A multi-partitioned asset with a dynamic
    dimension needs `dynamic`, the store's keys (None without it)."""
    definition = node.partitions_def
    kind = definition.WhichOneof("kind")
    if kind == "dynamic":
        return IndexedPartitions(_fingerprint(definition), dynamic_name=definition.dynamic.name)
    numbered = _indexed_space(node, dynamic)
    if numbered is None:
        return None
    space, frozen_keys = numbered
    fingerprint = _fingerprint(definition, frozen_keys)

    def index_many(keys: Sequence[str]) -> list[int | None]:
        return space.indexes_of(keys, time.time())

    def index_ranges(keys: Sequence[str]) -> IndexRanges:
        return space.index_ranges(keys, time.time())

    def keys_between(first: str, last: str) -> list[str]:
        now = time.time()
        start, end = space.indexes_of([first, last], now)
        if start is None or end is None or end < start:
            return []
        return space.keys_slice(start, end - start + 1, now)

    def numbering() -> str | None:
        return numbering_of(space, time.time())

    def carried(old: str) -> CarryOver | None:
        return carry_over(old, space, time.time())

    def keys_slice(offset: int, limit: int) -> list[str]:
        return space.keys_slice(offset, limit, time.time())

    return IndexedPartitions(
        fingerprint,
        index_many=index_many,
        index_ranges=index_ranges,
        keys_between=keys_between,
        numbering=numbering,
        carry_over=carried,
        keys_slice=keys_slice,
    )


def _numbered(node: definitions_pb2.AssetNode, dynamic: DynamicSpaces) -> IndexedKeySpace:
    numbered = _indexed_space(node, dynamic)
    assert numbered is not None  # with the store's dynamic keys, every space numbers
    return numbered[0]


def _indexed_space(
    node: definitions_pb2.AssetNode, dynamic: DynamicSpaces | None
) -> tuple[IndexedKeySpace, bytes] | None:
    """The numbered key space of a static, time-window or multi definition, and the keys
    its numbering froze (empty unless a multi one has dynamic or several time-window
    dimensions: those are numbered by their keys of now, see `MultiKeySpace.frozen`).
    None for a multi one with a dynamic dimension when `dynamic` is None."""
    if dynamic is None and has_dynamic_keys(node.partitions_def):
        return None
    space: KeySpace = space_of(node, dynamic)
    if isinstance(space, MultiKeySpace):
        if space.indexable():
            return space, b""
        frozen = space.frozen(time.time())
        keys = [
            s.key_list
            for (_, s), (_, original) in zip(frozen.dimensions, space.dimensions, strict=True)
            if isinstance(s, StaticKeySpace) and not isinstance(original, StaticKeySpace)
        ]
        return frozen, "\n".join("\t".join(k) for k in keys).encode()
    assert isinstance(space, StaticKeySpace | TimeWindowKeySpace)
    return space, b""


@lru_cache(maxsize=512)
def _fingerprint_of(serialized: bytes) -> str:
    return hashlib.sha256(serialized).hexdigest()[:40]


def _fingerprint(definition: partitions_pb2.PartitionsDefinition, frozen_keys: bytes = b"") -> str:
    """Changes with the definition and with the keys its numbering froze."""
    fingerprint = _fingerprint_of(definition.SerializeToString(deterministic=True))
    if not frozen_keys:
        return fingerprint
    return hashlib.sha256(fingerprint.encode() + frozen_keys).hexdigest()[:40]


def _positions(ranges: IndexRanges, live: Sequence[int]) -> IndexRanges:
    """Ordinal ranges of a dynamic definition as ranges of positions among present keys."""
    return IndexRanges.from_runs(
        (bisect_left(live, start), bisect_left(live, end)) for start, end in ranges.runs()
    )


def dynamic_names(definition: partitions_pb2.PartitionsDefinition) -> list[str]:
    kind = definition.WhichOneof("kind")
    if kind == "dynamic":
        return [definition.dynamic.name]
    if kind == "multi":
        return [n for d in definition.multi.dimensions for n in dynamic_names(d.partitions_def)]
    return []


def checked_dynamic_keys(keys: Sequence[str]) -> list[str]:
    if not keys:
        raise InvalidArgumentError("partitionKeys is empty: name at least one key")
    if len(keys) > MAX_DYNAMIC_KEYS_PER_REQUEST:
        raise InvalidArgumentError(
            f"partitionKeys has {len(keys)} keys; at most {MAX_DYNAMIC_KEYS_PER_REQUEST} per "
            "request"
        )
    for index, key in enumerate(keys):
        if not key or not key.strip():
            raise InvalidArgumentError(f"partitionKeys[{index}] is empty")
        if len(key.encode()) > MAX_DYNAMIC_KEY_BYTES:
            raise InvalidArgumentError(
                f"partitionKeys[{index}] is {len(key.encode())} bytes; at most "
                f"{MAX_DYNAMIC_KEY_BYTES} allowed"
            )
        if "|" in key:
            raise InvalidArgumentError(
                f"partitionKeys[{index}] {key!r} contains '|', which joins the keys of "
                "multi-partitions; choose another separator"
            )
    return list(keys)
