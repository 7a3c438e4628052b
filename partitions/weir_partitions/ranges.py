"""Sets of partition indexes as sorted, disjoint, half-open runs `[start, end)`.

Partition status is a few such sets per asset (materialized, failed, in progress) over
the index space of its partitions definition. Real status is mostly long runs (a
backfilled year, a failed week), so a set of a million partitions is a handful of
runs: a few bytes to store, microseconds to combine.

>>> done = IndexRanges.of([0, 1, 2, 5])
>>> done.runs()
[(0, 3), (5, 6)]
>>> (IndexRanges.span(0, 8) - done).runs(), len(done)
([(3, 5), (6, 8)], 4)
>>> IndexRanges.from_bytes(done.to_bytes()) == done
True
"""

from __future__ import annotations

import bisect
import itertools
import operator
import sys
from array import array
from collections.abc import Iterable, Iterator


class IndexRanges:
    """An immutable set of non-negative integers kept as sorted disjoint runs."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, starts: list[int], ends: list[int]):
        # Callers pass sorted, disjoint, non-adjacent, non-empty runs.
        self._starts = starts
        self._ends = ends

    @classmethod
    def empty(cls) -> IndexRanges:
        return cls([], [])

    @classmethod
    def span(cls, start: int, end: int) -> IndexRanges:
        return cls([start], [end]) if end > start else cls.empty()

    @classmethod
    def of(cls, indexes: Iterable[int]) -> IndexRanges:
        """The set of `indexes` (any order, repeats allowed), a million in a blink: in a
        sorted run, index minus position is constant, so the runs are the groups of equal
        differences, which `groupby` finds without a Python step per index."""
        ordered = sorted(set(indexes))
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for offset, run in itertools.groupby(map(operator.sub, ordered, itertools.count())):
            length = len(list(run))
            starts.append(offset + position)
            ends.append(offset + position + length)
            position += length
        return cls(starts, ends)

    @classmethod
    def from_runs(cls, runs: Iterable[tuple[int, int]]) -> IndexRanges:
        """From runs in any order, overlapping or touching ones joined."""
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(runs):
            if end <= start:
                continue
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return cls(starts, ends)

    # -- storage --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Little-endian int64 pairs (start, end), the form storage keeps."""
        flat = array("q", (v for pair in zip(self._starts, self._ends, strict=True) for v in pair))
        if sys.byteorder != "little":
            flat.byteswap()
        return flat.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes | None) -> IndexRanges:
        if not data:
            return cls.empty()
        flat = array("q")
        flat.frombytes(data)
        if sys.byteorder != "little":
            flat.byteswap()
        return cls(flat[0::2].tolist(), flat[1::2].tolist())

    # -- reading --------------------------------------------------------------------------

    def runs(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def __iter__(self) -> Iterator[int]:
        for start, end in zip(self._starts, self._ends, strict=True):
            yield from range(start, end)

    def __len__(self) -> int:
        return sum(self._ends) - sum(self._starts)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        at = bisect.bisect_right(self._starts, index) - 1
        return at >= 0 and index < self._ends[at]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, IndexRanges)
            and self._starts == other._starts
            and self._ends == other._ends
        )

    def __hash__(self) -> int:
        return hash((tuple(self._starts), tuple(self._ends)))

    def __repr__(self) -> str:
        return f"IndexRanges({self.runs()!r})"

    # -- combining ------------------------------------------------------------------------

    def __or__(self, other: IndexRanges) -> IndexRanges:
        return IndexRanges.from_runs([*self.runs(), *other.runs()])

    def __and__(self, other: IndexRanges) -> IndexRanges:
        starts: list[int] = []
        ends: list[int] = []
        i = j = 0
        a_starts, a_ends, b_starts, b_ends = self._starts, self._ends, other._starts, other._ends
        while i < len(a_starts) and j < len(b_starts):
            start = max(a_starts[i], b_starts[j])
            end = min(a_ends[i], b_ends[j])
            if start < end:
                starts.append(start)
                ends.append(end)
            if a_ends[i] < b_ends[j]:
                i += 1
            else:
                j += 1
        return IndexRanges(starts, ends)

    def __sub__(self, other: IndexRanges) -> IndexRanges:
        starts: list[int] = []
        ends: list[int] = []
        j = 0
        b_starts, b_ends = other._starts, other._ends
        for start, end in zip(self._starts, self._ends, strict=True):
            while j < len(b_starts) and b_ends[j] <= start:
                j += 1
            k = j
            while k < len(b_starts) and b_starts[k] < end:
                if b_starts[k] > start:
                    starts.append(start)
                    ends.append(b_starts[k])
                start = max(start, b_ends[k])
                k += 1
            if start < end:
                starts.append(start)
                ends.append(end)
        return IndexRanges(starts, ends)

    def shifted(self, offset: int) -> IndexRanges:
        return IndexRanges([s + offset for s in self._starts], [e + offset for e in self._ends])
