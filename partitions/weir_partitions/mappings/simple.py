"""Mappings that relate keys by name or by rule: identity, all, last, specific, static."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from weir_partitions.errors import MappingError, MissingUpstreamKeysError
from weir_partitions.key_spaces import KeySpace, StaticKeySpace
from weir_partitions.mappings.base import KeyMapping, every_key, require_partitioned


@dataclass(frozen=True)
class IdentityMapping(KeyMapping):
    """Each downstream partition reads the upstream partition with the same key.

    >>> regions = StaticKeySpace(["eu", "us"])
    >>> IdentityMapping().upstream_keys(["us", "eu"], regions, regions, now=0)
    ['eu', 'us']
    """

    name = "IdentityPartitionMapping"

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        require_partitioned(self, upstream, downstream)

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert upstream is not None
        missing = upstream.unknown_keys(downstream_keys, now)
        if missing:
            raise MissingUpstreamKeysError(missing, upstream)
        return upstream.sort_keys(downstream_keys, now)

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert downstream is not None
        absent = set(downstream.unknown_keys(upstream_keys, now))
        return downstream.sort_keys([k for k in upstream_keys if k not in absent], now)


@dataclass(frozen=True)
class AllMapping(KeyMapping):
    """Every downstream partition reads every upstream partition (the default when either
    asset is unpartitioned)."""

    name = "AllPartitionMapping"

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        return every_key(upstream, now)

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        # An unpartitioned upstream asset is one unit that every partition reads.
        feeds_any = bool(upstream_keys) or upstream is None
        return every_key(downstream, now) if feeds_any else []


@dataclass(frozen=True)
class LastMapping(KeyMapping):
    """Every downstream partition reads the last upstream partition as of `now`."""

    name = "LastPartitionMapping"

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        if upstream is None:
            raise MappingError(f"{self.name} needs a partitioned upstream asset")

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert upstream is not None
        last = upstream.last_key(now)
        return [last] if last is not None else []

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert upstream is not None
        return every_key(downstream, now) if upstream.last_key(now) in upstream_keys else []


@dataclass(frozen=True)
class SpecificKeysMapping(KeyMapping):
    """Every downstream partition reads the same fixed upstream partitions.

    >>> up = StaticKeySpace(["a", "b", "c"])
    >>> SpecificKeysMapping(("c", "a")).upstream_keys(None, None, up, now=0)
    ['a', 'c']
    """

    keys: tuple[str, ...]
    name = "SpecificPartitionsPartitionMapping"

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        if not self.keys:
            raise MappingError(f"{self.name} names no partition keys")
        if upstream is None:
            raise MappingError(f"{self.name} needs a partitioned upstream asset")
        if isinstance(upstream, StaticKeySpace):
            unknown = upstream.unknown_keys(self.keys)
            if unknown:
                raise MappingError(
                    f"{self.name} names keys {unknown} that the upstream {upstream!r} does not have"
                )

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert upstream is not None
        missing = upstream.unknown_keys(self.keys, now)
        if missing:
            raise MissingUpstreamKeysError(missing, upstream)
        return upstream.sort_keys(self.keys, now)

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        if set(upstream_keys).isdisjoint(self.keys):
            return []
        return every_key(downstream, now)


@dataclass(frozen=True)
class StaticMapping(KeyMapping):
    """An explicit table: each upstream key and the downstream keys it feeds.

    >>> up, down = StaticKeySpace(["eu-1", "eu-2", "us-1"]), StaticKeySpace(["eu", "us"])
    >>> table = StaticMapping.of({"eu-1": ["eu"], "eu-2": ["eu"], "us-1": ["us"]})
    >>> table.upstream_keys("eu", down, up, now=0)
    ['eu-1', 'eu-2']
    """

    # (upstream key, its downstream keys), sorted: a table that hashes and compares by value.
    table: tuple[tuple[str, tuple[str, ...]], ...]
    name = "StaticPartitionMapping"

    @classmethod
    def of(cls, downstream_keys_by_upstream_key: Mapping[str, Iterable[str]]) -> StaticMapping:
        return cls(
            tuple(
                (up, tuple(sorted(set(downs))))
                for up, downs in sorted(downstream_keys_by_upstream_key.items())
            )
        )

    @cached_property
    def _by_upstream(self) -> dict[str, tuple[str, ...]]:
        return dict(self.table)

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        require_partitioned(self, upstream, downstream)
        for side, space, keys in (
            ("upstream", upstream, {up for up, _ in self.table}),
            ("downstream", downstream, {d for _, downs in self.table for d in downs}),
        ):
            if isinstance(space, StaticKeySpace):
                unknown = sorted(space.unknown_keys(keys))
                if unknown:
                    raise MappingError(
                        f"{self.name} names {side} keys {unknown} that {space!r} does not have"
                    )

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert upstream is not None
        wanted = set(downstream_keys)
        ups = [up for up, downs in self.table if wanted.intersection(downs)]
        missing = upstream.unknown_keys(ups, now)
        if missing:
            raise MissingUpstreamKeysError(missing, upstream)
        return upstream.sort_keys(ups, now)

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        assert downstream is not None
        downs = {d for up in upstream_keys for d in self._by_upstream.get(up, ())}
        absent = set(downstream.unknown_keys(downs, now))
        return downstream.sort_keys(downs - absent, now)
