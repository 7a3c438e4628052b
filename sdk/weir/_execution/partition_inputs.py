"""Which partition(s) of an upstream asset a step reads, given the run's partition key.

The dependency's partition mapping decides (Dagster's defaults when none is given). One
upstream partition loads as its value; several, or all of them, load as a dict by key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._context_partitions import InputPartitions, StepPartitions
from weir._errors import WeirError
from weir._key import AssetKey

if TYPE_CHECKING:
    from weir._execution.step import RunScope


def upstream_partitions(definition: Any, upstream: AssetKey, run: RunScope) -> Any:
    """None (unpartitioned), one key (a str), or a list of keys (loaded as a dict)."""
    upstream_def = run.partitions_def_of(upstream)
    if upstream_def is None:
        return None
    own_def = _own_partitions_def(definition, run)
    explicit = _explicit_mapping(definition, upstream)
    if explicit is None and own_def is not None and own_def == upstream_def:
        return run.partition_key  # the common case, without building a mapping
    from weir._partitions.mappings.infer import infer_partition_mapping
    from weir._partitions.mappings.simple import AllPartitionMapping

    mapping = infer_partition_mapping(explicit, upstream_def, own_def)
    downstream_keys = [run.partition_key] if run.partition_key is not None else []
    keys = mapping.get_upstream_partitions(downstream_keys, own_def, upstream_def)
    if len(keys) == 1 and not isinstance(mapping, AllPartitionMapping):
        return keys[0]
    return list(keys)


def _explicit_mapping(definition: Any, upstream: AssetKey) -> Any:
    for spec in getattr(definition, "specs", ()):
        for dep in spec.deps:
            if dep.asset_key == upstream and dep.partition_mapping is not None:
                return dep.partition_mapping
    return None


def _own_partitions_def(definition: Any, run: RunScope) -> Any:
    own_def = getattr(definition, "partitions_def", None)
    if own_def is None and hasattr(definition, "asset_key"):  # a check: its asset's partitions
        own_def = run.partitions_def_of(definition.asset_key)
    return own_def


def step_partitions(definition: Any, run: RunScope) -> StepPartitions:
    """What the step's context tells about partitions, each input's read on demand."""

    def read_input(input_name: str) -> InputPartitions:
        upstream = _input_asset_key(definition, input_name)
        keys = upstream_partitions(definition, upstream, run)
        listed = [] if keys is None else [keys] if isinstance(keys, str) else list(keys)
        return InputPartitions(run.partitions_def_of(upstream), listed)

    return StepPartitions(_own_partitions_def(definition, run), read_input)


def _input_asset_key(definition: Any, input_name: str) -> AssetKey:
    """An input by parameter name, or a ``deps=`` asset by its python identifier."""
    if input_name in definition.input_keys:
        return definition.input_keys[input_name]
    deps = {d.asset_key for spec in getattr(definition, "specs", ()) for d in spec.deps}
    by_name = {key.to_python_identifier(): key for key in deps}
    if input_name in by_name:
        return by_name[input_name]
    names = sorted({*definition.input_keys, *by_name})
    raise WeirError(
        f"'{definition.node_name}' has no input named {input_name!r}; its inputs are {names}"
    )
