"""The partitions of an asset and of the assets it depends on, related across each edge of
a snapshot's asset graph by the edge's partition mapping (or the default one).

Every answer comes from the snapshot alone, through the partitions engine the SDK uses.
Errors name the assets and say what to fix: a definition the engine cannot read or a
mapping that cannot apply to the two definitions is FAILED_PRECONDITION (fix the code
location), a key an asset does not have is INVALID_ARGUMENT.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from weir_partitions import (
    DynamicKeysUnknownError,
    KeySpace,
    MappingError,
    MissingUpstreamKeysError,
    PartitionsError,
    UnknownPartitionKeyError,
)
from weir_partitions.mappings import KeyMapping, PartitionKeys, default_mapping
from weir_protos.v1 import definitions_pb2, partitions_pb2

from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.partitions.wire import (
    DynamicSpaces,
    has_dynamic_keys,
    key_mapping,
    key_space,
)


@lru_cache(maxsize=512)
def _cached_space(serialized: bytes) -> KeySpace:
    # Building a time-window space reads its cron string and checks its format: once per
    # definition, not once per request. A space also caches key -> window lookups.
    return key_space(partitions_pb2.PartitionsDefinition.FromString(serialized))


def space_of(node: definitions_pb2.AssetNode, dynamic: DynamicSpaces | None = None) -> KeySpace:
    """The key space of a partitioned asset, or FAILED_PRECONDITION if it cannot be read;
    `dynamic` gives the keys of dynamic partitions (see `key_space`)."""
    try:
        if dynamic is not None and has_dynamic_keys(node.partitions_def):
            return key_space(node.partitions_def, dynamic)  # the store's keys, read now
        return _cached_space(node.partitions_def.SerializeToString(deterministic=True))
    except PartitionsError as exc:
        raise FailedPreconditionError(
            f"the partitions definition of asset {key_string(node.key)!r} cannot be read: "
            f"{exc}; fix it in the code location and reload it"
        ) from None


def asset_space(
    node: definitions_pb2.AssetNode, dynamic: DynamicSpaces | None = None
) -> KeySpace | None:
    """`space_of` a partitioned asset; None for an unpartitioned one."""
    return space_of(node, dynamic) if node.HasField("partitions_def") else None


@dataclass(frozen=True)
class DependencyMapping:
    """How the partitions of asset `downstream` relate to those of `upstream`, one of the
    assets it depends on: the edge's mapping (the default when it names none) between the
    two assets' key spaces (None for an unpartitioned asset). `now` (POSIX seconds,
    default: the current time) is the moment whose time windows exist.
    """

    downstream: str
    upstream: str
    mapping: KeyMapping
    downstream_space: KeySpace | None
    upstream_space: KeySpace | None

    def upstream_keys(self, downstream_keys: PartitionKeys, now: float | None = None) -> list[str]:
        """The keys of `upstream` that the given keys of `downstream` read."""
        with self._api_errors():
            return self.mapping.upstream_keys(
                downstream_keys, self.downstream_space, self.upstream_space, _now(now)
            )

    def downstream_keys(self, upstream_keys: PartitionKeys, now: float | None = None) -> list[str]:
        """The keys of `downstream` that the given keys of `upstream` feed."""
        with self._api_errors():
            return self.mapping.downstream_keys(
                upstream_keys, self.upstream_space, self.downstream_space, _now(now)
            )

    @contextmanager
    def _api_errors(self) -> Iterator[None]:
        try:
            yield
        except UnknownPartitionKeyError as exc:
            asset = self.downstream if exc.side == "downstream" else self.upstream
            raise InvalidArgumentError(f"asset {asset!r}: {exc}") from None
        except MissingUpstreamKeysError as exc:
            raise InvalidArgumentError(
                f"asset {self.downstream!r} reads partitions of {self.upstream!r} that do not "
                f"exist: {exc}"
            ) from None
        except DynamicKeysUnknownError as exc:
            raise FailedPreconditionError(
                f"relating the partitions of {self.downstream!r} and {self.upstream!r} needs "
                f"the keys of dynamic partitions {exc.name!r}, which were not read from the "
                "deployment's store here"
            ) from None
        except MappingError as exc:
            raise self._cannot_apply(exc) from None

    def _cannot_apply(self, exc: MappingError) -> FailedPreconditionError:
        return FailedPreconditionError(
            f"the partition mapping of asset {self.downstream!r} on {self.upstream!r} cannot "
            f"apply: {exc}; fix it in the code location and reload it"
        )


def dependency_mapping(
    nodes: Mapping[str, definitions_pb2.AssetNode],
    downstream: str,
    upstream: str,
    dynamic: DynamicSpaces | None = None,
) -> DependencyMapping:
    """The mapping across the edge from `downstream` to `upstream`, checked to apply to
    the two assets' definitions (FAILED_PRECONDITION naming both if it does not);
    `dynamic` gives the keys of dynamic partitions (see `key_space`)."""
    node, upstream_node = nodes[downstream], nodes.get(upstream)
    edge = next((d for d in node.deps if key_string(d.asset_key) == upstream), None)
    if edge is None or upstream_node is None:
        raise NotFoundError(f"asset {downstream!r} has no dependency on a defined {upstream!r}")
    down_space, up_space = asset_space(node, dynamic), asset_space(upstream_node, dynamic)
    try:
        if edge.HasField("partition_mapping"):
            mapping = key_mapping(edge.partition_mapping)
        else:
            mapping = default_mapping(up_space, down_space)
    except MappingError as exc:
        raise FailedPreconditionError(
            f"the partition mapping of asset {downstream!r} on {upstream!r} cannot be read: {exc}"
        ) from None
    resolved = DependencyMapping(downstream, upstream, mapping, down_space, up_space)
    try:
        mapping.validate(up_space, down_space)
    except MappingError as exc:
        raise resolved._cannot_apply(exc) from None
    return resolved


def dependency_mappings(
    nodes: Mapping[str, definitions_pb2.AssetNode],
    downstream: str,
    dynamic: DynamicSpaces | None = None,
) -> list[DependencyMapping]:
    """The mapping of each edge from `downstream` to an asset of `nodes`, in edge order."""
    upstreams = dict.fromkeys(key_string(d.asset_key) for d in nodes[downstream].deps)
    return [dependency_mapping(nodes, downstream, up, dynamic) for up in upstreams if up in nodes]


def _now(now: float | None) -> float:
    return time.time() if now is None else now
