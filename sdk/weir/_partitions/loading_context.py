"""`partition_loading_context`: the moment and the dynamic-partitions store that partition
definitions answer for when a call does not pass `current_time` / `dynamic_partitions_store`.

Dagster 1.13 threads both this way; a test pins "now" for a whole block of calls with
``with partition_loading_context(effective_dt=datetime(2024, 1, 3)): ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weir._partitions.base import DynamicPartitionsStore


@dataclass(frozen=True)
class PartitionLoadingContext:
    """The effective time and dynamic-partitions store in force (either may be unset)."""

    effective_dt: datetime | None = None
    dynamic_partitions_store: DynamicPartitionsStore | None = None


_NONE_SET = PartitionLoadingContext()
_current: ContextVar[PartitionLoadingContext | None] = ContextVar(
    "weir_partition_loading_context", default=None
)


def current_partition_loading_context() -> PartitionLoadingContext:
    return _current.get() or _NONE_SET


@contextmanager
def partition_loading_context(
    effective_dt: datetime | None = None,
    dynamic_partitions_store: DynamicPartitionsStore | None = None,
    *,
    new_ctx: PartitionLoadingContext | None = None,
) -> Iterator[PartitionLoadingContext]:
    """Answer partition questions as of `effective_dt`, with `dynamic_partitions_store`,
    inside the block; what is not given is kept from an enclosing block (`new_ctx`
    replaces both).

    >>> from weir import DailyPartitionsDefinition
    >>> daily = DailyPartitionsDefinition(start_date="2024-01-01")
    >>> with partition_loading_context(effective_dt=datetime(2024, 1, 3)):
    ...     daily.get_last_partition_key()
    '2024-01-02'
    """
    outer = current_partition_loading_context()
    if new_ctx is None:
        new_ctx = replace(
            outer,
            effective_dt=effective_dt or outer.effective_dt,
            dynamic_partitions_store=dynamic_partitions_store or outer.dynamic_partitions_store,
        )
    token = _current.set(new_ctx)
    try:
        yield new_ctx
    finally:
        _current.reset(token)


def effective_time(current_time: datetime | None) -> datetime | None:
    """`current_time`, or the one a partition_loading_context set."""
    return (
        current_time
        if current_time is not None
        else current_partition_loading_context().effective_dt
    )


def effective_store(store: DynamicPartitionsStore | None) -> DynamicPartitionsStore | None:
    """`store`, or the one a partition_loading_context set."""
    return (
        store if store is not None else current_partition_loading_context().dynamic_partitions_store
    )
