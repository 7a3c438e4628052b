"""A run over a range of partitions: the range's ends travel as two system tags, since
the runs table names one partition key (`partition_key` is None for such a run)."""

from __future__ import annotations

from collections.abc import Mapping

from weir_protos.v1 import partitions_pb2

from weir_controlplane.storage.partition_status import RANGE_END_TAG, RANGE_START_TAG


def range_tags(first: str, last: str) -> dict[str, str]:
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def partition_range(tags: Mapping[str, str]) -> partitions_pb2.PartitionKeyRange | None:
    """The range a run's tags name; None for a run of one partition or none."""
    if RANGE_START_TAG not in tags or RANGE_END_TAG not in tags:
        return None
    return partitions_pb2.PartitionKeyRange(start=tags[RANGE_START_TAG], end=tags[RANGE_END_TAG])
