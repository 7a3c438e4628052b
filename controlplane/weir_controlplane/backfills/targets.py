"""The partitions a LaunchBackfill request names, per selected asset.

Keys, a range or every partition name partitions of each selected asset whose definition
has them. A selected asset of another definition (a daily asset downstream of an hourly
one) gets the partitions that its selected upstream assets' targets feed through the
partition mappings. Errors name the key, the asset and what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from weir_partitions import KeySpace
from weir_protos.v1 import definitions_pb2

from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.partitions import DynamicSpaces, asset_space, dependency_mapping


@dataclass(frozen=True)
class PartitionRequest:
    """Exactly one of: `keys`, `key_range` (first, last) or `every`."""

    keys: tuple[str, ...] = ()
    key_range: tuple[str, str] | None = None
    every: bool = False

    def __post_init__(self) -> None:
        given = [bool(self.keys), self.key_range is not None, self.every]
        if sum(given) != 1:
            raise InvalidArgumentError(
                "name the partitions with exactly one of partitionKeys, partitionRange "
                "{start, end} or allPartitions"
            )
        if self.key_range is not None and not all(self.key_range):
            raise InvalidArgumentError("partitionRange needs both start and end keys")

    def example(self) -> str:
        """A key the request names, for messages."""
        return self.keys[0] if self.keys else self.key_range[0] if self.key_range else ""


def backfill_targets(
    nodes: Mapping[str, definitions_pb2.AssetNode],
    order: Sequence[str],
    request: PartitionRequest,
    now: float,
    dynamic: DynamicSpaces | None = None,
) -> dict[str, list[str]]:
    """The target partitions of each asset of `order` (dependency order; unpartitioned
    assets get none), in each definition's order."""
    targets: dict[str, list[str]] = {}
    for asset in order:
        space = asset_space(nodes[asset], dynamic)
        if space is None:
            targets[asset] = []
            continue
        own = _own_keys(asset, space, request, now)
        if own is None:
            own = _fed_keys(nodes, asset, targets, request.example(), now, dynamic)
        targets[asset] = own
    return targets


def _own_keys(
    asset: str, space: KeySpace, request: PartitionRequest, now: float
) -> list[str] | None:
    """The named partitions of `asset`; None when its definition has none of them."""
    if request.every:
        return space.keys(now)
    if request.keys:
        unknown = space.unknown_keys(request.keys, now)
        if len(unknown) == len(set(request.keys)):
            return None
        if unknown:
            raise InvalidArgumentError(
                f"{unknown[0]!r} is not a partition of asset {asset!r}: "
                f"{space.describe_valid_keys(unknown[0], now)}"
            )
        return space.sort_keys(request.keys, now)
    assert request.key_range is not None
    start, end = request.key_range
    missing = space.unknown_keys([start, end], now)
    if len(missing) == len({start, end}):
        return None
    if missing:
        raise InvalidArgumentError(
            f"partitionRange reaches outside the partitions of asset {asset!r}: {missing[0]!r} "
            f"is not one of them ({space.describe_valid_keys(missing[0], now)})"
        )
    keys = space.keys(now)
    first, last = keys.index(start), keys.index(end)
    if first > last:
        raise InvalidArgumentError(
            f"partitionRange is reversed: start {start!r} comes after end {end!r} in the "
            f"partitions of asset {asset!r}; swap them"
        )
    return keys[first : last + 1]


def _fed_keys(
    nodes: Mapping[str, definitions_pb2.AssetNode],
    asset: str,
    targets: Mapping[str, list[str]],
    example: str,
    now: float,
    dynamic: DynamicSpaces | None,
) -> list[str]:
    """The partitions of `asset` that the targets of its selected partitioned upstream
    assets feed; InvalidArgumentError when it has none to take them from."""
    space = asset_space(nodes[asset], dynamic)
    assert space is not None
    upstreams = [up for up, keys in targets.items() if keys and _reads(nodes[asset], up)]
    if not upstreams:
        raise InvalidArgumentError(
            f"{example!r} is not a partition of asset {asset!r}, and no selected asset "
            f"upstream of it has the partitions named: {space.describe_valid_keys(example, now)}"
        )
    fed: set[str] = set()
    for up in upstreams:
        mapping = dependency_mapping(nodes, asset, up, dynamic)
        fed.update(mapping.downstream_keys(targets[up], now))
    if not fed:
        raise InvalidArgumentError(
            f"the partitions named feed no partition of asset {asset!r} through its "
            "partition mappings; widen the partitions or leave it out of the selection"
        )
    return space.sort_keys(fed, now)


def _reads(node: definitions_pb2.AssetNode, upstream: str) -> bool:
    return any(key_string(dep.asset_key) == upstream for dep in node.deps)
