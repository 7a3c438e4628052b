"""The partition questions an asset's context answers: which partitions the step runs for,
and which partitions of each upstream asset it reads (after the dependency's mapping).

A step runs for one partition key; a run over a range runs its steps once per key, so the
run's own range is that one key (``has_partition_key_range`` is False, as in Dagster for
a single-partition run). An input's range is whatever the partition mapping makes of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from weir._errors import UsageError

if TYPE_CHECKING:
    from weir._key import AssetKey
    from weir._partitions.base import PartitionKeyRange, PartitionsDefinition
    from weir._partitions.time_window import TimeWindow


@dataclass(frozen=True)
class InputPartitions:
    """One input's upstream partitions definition and the keys the step reads of it."""

    partitions_def: PartitionsDefinition | None
    keys: Sequence[str]


@dataclass(frozen=True)
class StepPartitions:
    """What the step knows about partitions: its own definition, and per input name (a
    parameter, or a ``deps=`` asset's python identifier) the upstream partitions it reads."""

    partitions_def: PartitionsDefinition | None
    read_input: Callable[[str], InputPartitions]

    def typed_key(self, partition_key: str | None) -> str | None:
        """A multi-partitioned step's key as a MultiPartitionKey, which knows its parts
        (``context.partition_key.keys_by_dimension``)."""
        from weir._partitions.multi import MultiPartitionsDefinition

        if partition_key is None or not isinstance(self.partitions_def, MultiPartitionsDefinition):
            return partition_key
        return self.partitions_def.get_partition_key_from_str(partition_key)


class PartitionContextMethods:
    """Dagster's partition accessors on the asset and op contexts."""

    op_name: str
    _partition_key: str | None
    _partitions: StepPartitions | None
    _output_names: dict[AssetKey, str]

    # -- the run's partitions -----------------------------------------------------------

    @property
    def has_partition_key_range(self) -> bool:
        return False  # a step runs for one key; see the module docstring

    @property
    def partition_keys(self) -> list[str]:
        return [self._require_key()]

    @property
    def partition_key_range(self) -> PartitionKeyRange:
        from weir._partitions.base import PartitionKeyRange

        key = self._require_key()
        return PartitionKeyRange(key, key)

    asset_partition_key_range = partition_key_range

    @property
    def partition_time_window(self) -> TimeWindow:
        return _time_window(self._own_def("partition_time_window"), self.partition_keys)

    @property
    def multi_partition_key(self) -> Any:
        from weir._partitions.multi import MultiPartitionsDefinition

        partitions_def = self._own_def("multi_partition_key")
        if not isinstance(partitions_def, MultiPartitionsDefinition):
            raise UsageError(f"'{self.op_name}' is not multi-partitioned")
        return partitions_def.get_partition_key_from_str(self._require_key())

    # -- per output: a step's outputs share its partitions --------------------------------

    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        self._check_output(output_name)
        return self._require_key()

    def asset_partition_keys_for_output(self, output_name: str = "result") -> list[str]:
        self._check_output(output_name)
        return self.partition_keys

    def asset_partition_key_range_for_output(
        self, output_name: str = "result"
    ) -> PartitionKeyRange:
        self._check_output(output_name)
        return self.partition_key_range

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> TimeWindow:
        self._check_output(output_name)
        return self.partition_time_window

    def asset_partitions_def_for_output(self, output_name: str = "result") -> PartitionsDefinition:
        self._check_output(output_name)
        return self._own_def("asset_partitions_def_for_output")

    # -- per input: the upstream partitions the mapping selects ---------------------------

    def asset_partition_keys_for_input(self, input_name: str) -> list[str]:
        return list(self._input(input_name).keys)

    def asset_partition_key_for_input(self, input_name: str) -> str:
        keys = self.asset_partition_keys_for_input(input_name)
        if len(keys) != 1:
            raise UsageError(
                f"Input '{input_name}' of '{self.op_name}' reads {len(keys)} partitions "
                f"({_describe(keys)}); use asset_partition_keys_for_input or "
                "asset_partition_key_range_for_input"
            )
        return keys[0]

    def asset_partition_key_range_for_input(self, input_name: str) -> PartitionKeyRange:
        from weir._partitions.base import PartitionKeyRange

        keys = self.asset_partition_keys_for_input(input_name)
        if not keys:
            raise UsageError(f"Input '{input_name}' of '{self.op_name}' reads no partitions")
        return PartitionKeyRange(keys[0], keys[-1])

    def asset_partitions_time_window_for_input(self, input_name: str) -> TimeWindow:
        upstream = self._input(input_name)
        assert upstream.partitions_def is not None  # _input refuses unpartitioned inputs
        return _time_window(upstream.partitions_def, upstream.keys)

    def asset_partitions_def_for_input(self, input_name: str) -> PartitionsDefinition:
        upstream = self._input(input_name)
        assert upstream.partitions_def is not None
        return upstream.partitions_def

    # -- helpers ------------------------------------------------------------------------

    def _require_key(self) -> str:
        if self._partition_key is None:
            raise UsageError(f"'{self.op_name}' is not running for a partition")
        return self._partition_key

    def _own_def(self, what: str) -> PartitionsDefinition:
        partitions_def = self._partitions.partitions_def if self._partitions else None
        if partitions_def is None:
            raise UsageError(f"context.{what}: '{self.op_name}' has no partitions definition")
        return partitions_def

    def _check_output(self, output_name: str) -> None:
        names = set(self._output_names.values())
        if names and output_name not in names and not (output_name == "result" and len(names) == 1):
            raise UsageError(
                f"'{self.op_name}' has no output named {output_name!r}; its outputs are "
                f"{sorted(names)}"
            )

    def _input(self, input_name: str) -> InputPartitions:
        if self._partitions is None:
            raise UsageError(f"'{self.op_name}' was not started by a run, so has no inputs")
        upstream = self._partitions.read_input(input_name)
        if upstream.partitions_def is None:
            raise UsageError(f"Input '{input_name}' of '{self.op_name}' is not partitioned")
        return upstream


def _time_window(partitions_def: PartitionsDefinition, keys: Sequence[str]) -> TimeWindow:
    """The window from the first key's start to the last key's end (of the time dimension,
    for a multi-partitioned asset)."""
    from weir._partitions.multi import MultiPartitionsDefinition
    from weir._partitions.time_window import TimeWindow, TimeWindowPartitionsDefinition

    if isinstance(partitions_def, MultiPartitionsDefinition):
        dimension = partitions_def.time_window_dimension
        keys = [
            partitions_def.get_partition_key_from_str(k).keys_by_dimension[dimension.name]
            for k in keys
        ]
        partitions_def = dimension.partitions_def
    if not isinstance(partitions_def, TimeWindowPartitionsDefinition):
        raise UsageError(
            f"A time window needs time-window partitions (daily, hourly, ...) or a "
            f"multi-partitions definition with one time dimension, not {partitions_def!r}"
        )
    windows = partitions_def.time_windows_for_partition_keys(keys)
    return TimeWindow(min(w.start for w in windows), max(w.end for w in windows))


def _describe(keys: Sequence[str]) -> str:
    return f"{keys[0]!r} to {keys[-1]!r}" if keys else "none"
