"""Mappings between multi-dimensional partitions, dimension by dimension."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from weir_partitions.errors import MappingError
from weir_partitions.key_spaces import MULTIPARTITION_KEY_DELIMITER, KeySpace, MultiKeySpace
from weir_partitions.mappings.base import KeyMapping, require_kind, require_partitioned
from weir_partitions.mappings.simple import IdentityMapping
from weir_partitions.mappings.time_window import TimeWindowMapping
from weir_partitions.time_window import TimeWindowKeySpace


@dataclass(frozen=True)
class DimensionMapping:
    """One mapped pair of dimensions and how their keys relate. A name of None stands for
    the whole of a single-dimension key space."""

    mapping: KeyMapping
    upstream_dimension: str | None
    downstream_dimension: str | None


class _DimensionwiseMapping(KeyMapping):
    """Maps each key dimension by dimension; unmapped target dimensions take every key."""

    def dimension_mappings(
        self, upstream: KeySpace | None, downstream: KeySpace | None
    ) -> list[DimensionMapping]:
        raise NotImplementedError

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        require_partitioned(self, upstream, downstream)
        self.dimension_mappings(upstream, downstream)

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        pairs = [
            (d.downstream_dimension, d.upstream_dimension, d.mapping)
            for d in self.dimension_mappings(upstream, downstream)
        ]
        return _map(pairs, downstream_keys, downstream, upstream, True, now)

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        pairs = [
            (d.upstream_dimension, d.downstream_dimension, d.mapping)
            for d in self.dimension_mappings(upstream, downstream)
        ]
        return _map(pairs, upstream_keys, upstream, downstream, False, now)


@dataclass(frozen=True)
class MultiToSingleDimensionMapping(_DimensionwiseMapping):
    """Between a multi-dimensional key space and a single-dimension one (either side up),
    relate one dimension: found by `single_dimension` (see there) unless `dimension` names it."""

    dimension: str | None = None
    name = "MultiToSingleDimensionPartitionMapping"

    def dimension_mappings(
        self, upstream: KeySpace | None, downstream: KeySpace | None
    ) -> list[DimensionMapping]:
        found = single_dimension(upstream, downstream, self.dimension)
        if isinstance(found, str):
            raise MappingError(found)
        return [found]


@dataclass(frozen=True)
class MultiDimensionMapping(_DimensionwiseMapping):
    """Between two multi-dimensional key spaces: for each listed upstream dimension, the
    downstream dimension it maps to and how. Dimensions left out relate all to all."""

    dimensions: tuple[DimensionMapping, ...]
    name = "MultiPartitionMapping"

    def dimension_mappings(
        self, upstream: KeySpace | None, downstream: KeySpace | None
    ) -> list[DimensionMapping]:
        require_kind(self, upstream, downstream, MultiKeySpace, "MultiPartitionsDefinitions")
        assert isinstance(upstream, MultiKeySpace) and isinstance(downstream, MultiKeySpace)
        for side, names in (
            ("upstream", [d.upstream_dimension for d in self.dimensions]),
            ("downstream", [d.downstream_dimension for d in self.dimensions]),
        ):
            if len(set(names)) != len(names):
                raise MappingError(f"{self.name} maps one {side} dimension twice: {names}")
        for dimension in self.dimensions:
            for side, name, space in (
                ("upstream", dimension.upstream_dimension, upstream),
                ("downstream", dimension.downstream_dimension, downstream),
            ):
                if name not in space.names:
                    raise MappingError(
                        f"{self.name} names {side} dimension {name!r}, but the {side} "
                        f"dimensions are {space.names}"
                    )
            dimension.mapping.validate(
                upstream.dimension(dimension.upstream_dimension),  # type: ignore[arg-type]
                downstream.dimension(dimension.downstream_dimension),  # type: ignore[arg-type]
            )
        return list(self.dimensions)


def single_dimension(
    upstream: KeySpace | None, downstream: KeySpace | None, dimension: str | None = None
) -> DimensionMapping | str:
    """How a multi-dimensional and a single-dimension key space relate, or why they cannot.

    The dimension whose key space equals the single one relates by identity; else the one
    time-window dimension, when the single space is a time window too, by time windows; a
    named dimension that is neither relates by equal keys.
    """
    name = MultiToSingleDimensionMapping.name
    multis = [s for s in (upstream, downstream) if isinstance(s, MultiKeySpace)]
    if len(multis) != 1 or upstream is None or downstream is None:
        return (
            f"{name} relates a MultiPartitionsDefinition to a single-dimension partitions "
            f"definition; got upstream {upstream!r} and downstream {downstream!r}"
        )
    multi = multis[0]
    single = downstream if upstream is multi else upstream
    dimensions = multi.dimensions
    if dimension is not None:
        dimensions = [(n, s) for n, s in dimensions if n == dimension]
        if not dimensions:
            return f"Dimension {dimension!r} is not one of {multi.names} of {multi!r}"

    def mapped(dimension_name: str, mapping: KeyMapping) -> DimensionMapping:
        if upstream is multi:
            return DimensionMapping(mapping, dimension_name, None)
        return DimensionMapping(mapping, None, dimension_name)

    equal = [n for n, s in dimensions if s == single]
    if len(equal) == 1:
        return mapped(equal[0], IdentityMapping())
    if len(equal) > 1:
        return (
            f"Dimensions {equal} of {multi!r} both match {single!r}; name one with "
            f"{name}(partition_dimension_name=...)"
        )
    times = [n for n, s in dimensions if isinstance(s, TimeWindowKeySpace)]
    if len(times) == 1 and isinstance(single, TimeWindowKeySpace):
        return mapped(times[0], TimeWindowMapping())
    if dimension is not None:
        return mapped(dimension, IdentityMapping())  # named: match keys
    return (
        f"No dimension of {multi!r} matches {single!r}: a dimension must have the same "
        "partitions definition, or both must be time windows (with one time dimension)"
    )


def _map(
    pairs: list[tuple[str | None, str | None, KeyMapping]],
    keys: list[str],
    source: KeySpace | None,
    target: KeySpace | None,
    to_upstream: bool,
    now: float,
) -> list[str]:
    """Map `keys` of `source` to keys of `target`: each mapped dimension through its
    mapping, every key of each unmapped target dimension, then their product."""
    assert source is not None and target is not None

    def part_space(space: KeySpace, name: str | None) -> KeySpace:
        if name is None:
            return space
        assert isinstance(space, MultiKeySpace)
        return space.dimension(name)

    def parts(key: str) -> dict[str | None, str]:
        if isinstance(source, MultiKeySpace):
            return dict(zip(source.names, source.split(key) or [], strict=True))
        return {None: key}

    target_names: list[str | None] = (
        list(target.names) if isinstance(target, MultiKeySpace) else [None]
    )
    mapped_to = {to_dim for _, to_dim, _ in pairs}
    everything = {
        name: part_space(target, name).keys(now) for name in target_names if name not in mapped_to
    }
    cache: dict[tuple[int, str], list[str]] = {}
    results: set[str] = set()
    for key in keys:
        by_dimension = parts(key)
        choices = dict(everything)
        for i, (from_dim, to_dim, mapping) in enumerate(pairs):
            value = by_dimension[from_dim]
            if (i, value) not in cache:
                from_space, to_space = part_space(source, from_dim), part_space(target, to_dim)
                method = mapping.upstream_keys if to_upstream else mapping.downstream_keys
                cache[(i, value)] = method(value, from_space, to_space, now)
            choices[to_dim] = cache[(i, value)]
        for combination in itertools.product(*(choices[name] for name in target_names)):
            results.add(MULTIPARTITION_KEY_DELIMITER.join(combination))
    return target.sort_keys(results, now)
