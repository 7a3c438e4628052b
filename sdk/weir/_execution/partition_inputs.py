"""Which partition(s) of an upstream asset a step reads, given the run's partition key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._errors import PartitionKeyError
from weir._key import AssetKey

if TYPE_CHECKING:
    from weir._execution.step import RunScope


def upstream_partitions(definition: Any, upstream: AssetKey, run: RunScope) -> Any:
    """None (unpartitioned), one key, or a list of keys (loaded as a dict by partition)."""
    upstream_def = run.partitions_def_of(upstream)
    if upstream_def is None:
        return None
    own_def = getattr(definition, "partitions_def", None)
    if own_def is None and hasattr(definition, "asset_key"):  # a check: its asset's partitions
        own_def = run.partitions_def_of(definition.asset_key)
    if own_def is None:
        return list(upstream_def.get_partition_keys())
    if own_def == upstream_def:
        return run.partition_key
    raise PartitionKeyError(
        f"No partition mapping from '{upstream.to_user_string()}' ({upstream_def!r}) to "
        f"{own_def!r}; pass AssetIn(partition_mapping=...) or AssetDep(partition_mapping=...)"
    )
