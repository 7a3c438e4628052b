"""The partition mapping a dependency gets when it names none (Dagster's defaults)."""

from __future__ import annotations

from weir_partitions.key_spaces import KeySpace
from weir_partitions.mappings.base import KeyMapping
from weir_partitions.mappings.multi import MultiToSingleDimensionMapping, single_dimension
from weir_partitions.mappings.simple import AllMapping, IdentityMapping
from weir_partitions.mappings.time_window import TimeWindowMapping
from weir_partitions.time_window import TimeWindowKeySpace


def default_mapping(upstream: KeySpace | None, downstream: KeySpace | None) -> KeyMapping:
    """The mapping between two key spaces when a dependency names none:

    - either side unpartitioned: `AllMapping`
    - one multi-dimensional, one not, with a dimension that relates:
      `MultiToSingleDimensionMapping`
    - both time windows: `TimeWindowMapping()`
    - otherwise: `IdentityMapping`

    >>> from weir_partitions import StaticKeySpace
    >>> default_mapping(None, StaticKeySpace(["a"]))
    AllMapping()
    """
    if upstream is None or downstream is None:
        return AllMapping()
    if not isinstance(single_dimension(upstream, downstream), str):
        return MultiToSingleDimensionMapping()
    if isinstance(upstream, TimeWindowKeySpace) and isinstance(downstream, TimeWindowKeySpace):
        return TimeWindowMapping()
    return IdentityMapping()
