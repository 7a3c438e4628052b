"""What every partition mapping shares: both directions, the keys each side takes, and the
checks of mappings that relate keys on both sides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from weir_partitions.errors import MappingError, UnknownPartitionKeyError
from weir_partitions.key_spaces import KeySpace

# One key, several, or None for an unpartitioned side (which has no keys).
PartitionKeys = str | Iterable[str] | None


class KeyMapping(ABC):
    """How the partitions of a downstream asset relate to those of one upstream asset.

    A mapping answers both ways: `upstream_keys` (the upstream keys that downstream keys
    read) and `downstream_keys` (the downstream keys that upstream keys feed). Keys come
    back once each, in the target key space's order. A side that is unpartitioned is None,
    with no keys. `now` is POSIX seconds: the moment whose time windows exist.

    Raises `MappingError` when the mapping cannot relate the two key spaces,
    `UnknownPartitionKeyError` for a key its side does not have, and
    `MissingUpstreamKeysError` when partitions a downstream one reads do not exist upstream.
    """

    # The name users know the mapping by (the SDK's class, the wire's message).
    name: ClassVar[str]

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:  # noqa: B027  (a hook: by default any pair will do)
        """Raise `MappingError` if this mapping cannot relate these two key spaces."""

    def upstream_keys(
        self,
        downstream_keys: PartitionKeys,
        downstream: KeySpace | None,
        upstream: KeySpace | None,
        now: float,
    ) -> list[str]:
        self.validate(upstream, downstream)
        keys = checked_keys(downstream_keys, downstream, "downstream", now)
        return self._upstream(keys, downstream, upstream, now)

    def downstream_keys(
        self,
        upstream_keys: PartitionKeys,
        upstream: KeySpace | None,
        downstream: KeySpace | None,
        now: float,
    ) -> list[str]:
        self.validate(upstream, downstream)
        keys = checked_keys(upstream_keys, upstream, "upstream", now)
        return self._downstream(keys, upstream, downstream, now)

    @abstractmethod
    def _upstream(
        self,
        downstream_keys: list[str],
        downstream: KeySpace | None,
        upstream: KeySpace | None,
        now: float,
    ) -> list[str]: ...

    @abstractmethod
    def _downstream(
        self,
        upstream_keys: list[str],
        upstream: KeySpace | None,
        downstream: KeySpace | None,
        now: float,
    ) -> list[str]: ...


def checked_keys(keys: PartitionKeys, space: KeySpace | None, side: str, now: float) -> list[str]:
    """`keys` as a list, each once, or `UnknownPartitionKeyError` for the first unknown one."""
    if keys is None:
        listed: list[str] = []
    elif isinstance(keys, str):
        listed = [keys]
    else:
        listed = list(dict.fromkeys(keys))
    if space is None:
        if listed:
            raise UnknownPartitionKeyError(
                listed[0], f"the {side} asset is unpartitioned", side, len(listed) - 1
            )
        return listed
    unknown = space.unknown_keys(listed, now)
    if unknown:
        detail = space.describe_valid_keys(unknown[0], now)
        raise UnknownPartitionKeyError(unknown[0], detail, side, len(unknown) - 1)
    return listed


def require_partitioned(
    mapping: KeyMapping, upstream: KeySpace | None, downstream: KeySpace | None
) -> None:
    """The check of mappings that relate keys on both sides."""
    for side, space in (("upstream", upstream), ("downstream", downstream)):
        if space is None:
            raise MappingError(
                f"{mapping.name} relates partitions of two partitioned assets, but the {side} "
                "asset is unpartitioned; depend on it without a partition mapping (every "
                "partition reads all of it) or use AllPartitionMapping()"
            )


def require_kind(
    mapping: KeyMapping,
    upstream: KeySpace | None,
    downstream: KeySpace | None,
    kind: type,
    kind_name: str,
) -> None:
    """The check of mappings that relate two key spaces of one kind (`kind_name`: plural)."""
    for side, space, other, other_space in (
        ("upstream", upstream, "downstream", downstream),
        ("downstream", downstream, "upstream", upstream),
    ):
        if not isinstance(space, kind):
            raise MappingError(
                f"{mapping.name} relates two {kind_name}; the {side} one is {space!r} (the "
                f"{other} one {other_space!r})"
            )


def every_key(space: KeySpace | None, now: float) -> list[str]:
    return [] if space is None else space.keys(now)
