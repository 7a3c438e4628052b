"""What a lineage shows of a deployment graph, worked out once per graph and request.

A lineage's assets, their topological order and the encoded edges between them depend on
the definitions only, not on recorded state. So they are kept with the graph (which is
itself kept per combination of snapshot hashes), and after a materialization a
whole-graph lineage costs its assets' kept entries (api/asset_fragments.py) joined with
these: no walk, no sort and no per-edge filtering per call. A page is cut where the reply
would pass the size limit, found from running totals rather than asset by asset.

Example::

    plan = LineagePlan.of(graph, graph.resolve("*"))
    shown, stop, size = plan.fill(0, len(plan.keys), describe, limits.MAX_REPLY_BYTES)
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from weir_controlplane.api import paging
from weir_controlplane.api.asset_fragments import KeptAsset
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.errors import InvalidArgumentError

# Assets described per storage round trip while a page fills.
CHUNK = 2000


@dataclass(frozen=True)
class LineageSelector:
    """Which assets a lineage request asks for: `key` with its ancestors and descendants
    to the depths (None: all levels), or else those `selection` picks."""

    key: str | None
    selection: str
    upstream: int | None
    downstream: int | None


@dataclass(frozen=True)
class LineagePlan:
    keys: Sequence[str]  # every asset after the assets it depends on
    edges: Sequence[bytes]  # by position: the encoded edges into it from within the lineage
    edge_sizes: Sequence[int]

    @classmethod
    def of(cls, graph: DeploymentGraph, keys: set[str]) -> LineagePlan:
        ordered = graph.toposorted(keys)
        edges = [graph.edges_into(key).within(keys) for key in ordered]
        return cls(ordered, edges, [len(entry) for entry in edges])

    def start_after(self, cursor: str) -> int:
        """Where the page after `cursor` begins."""
        after = paging.decode_after(cursor)
        if after is None:
            return 0
        try:
            return self.keys.index(after) + 1
        except ValueError:
            raise InvalidArgumentError(
                f"cursor {cursor!r} names an asset no longer in this lineage (its "
                "definitions changed); start again without a cursor"
            ) from None

    def fill(
        self,
        start: int,
        end: int,
        describe: Callable[[Sequence[str]], list[KeptAsset]],
        max_bytes: int,
    ) -> tuple[list[KeptAsset], int, int]:
        """The assets from `start` (at least one) up to `end` that fit in `max_bytes` with
        their edges, described a chunk at a time (a huge lineage costs one page of storage
        reads): (the assets, where the next page starts, their encoded size)."""
        shown: list[KeptAsset] = []
        size = 0
        position = start
        while position < end:
            stop = min(position + CHUNK, end)
            kept = describe(self.keys[position:stop])
            sizes = map(
                operator.add, [asset.size for asset in kept], self.edge_sizes[position:stop]
            )
            totals = list(itertools.accumulate(sizes, initial=size))
            fitting = bisect.bisect_right(totals, max_bytes, lo=1) - 1
            if position == start:
                fitting = max(fitting, 1)  # a page holds one asset, however big
            shown += kept[:fitting]
            size = totals[fitting]
            position += fitting
            if fitting < len(kept):
                break
        return shown, position, size
