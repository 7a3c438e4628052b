"""The run queue's tag concurrency limits, counted inside the claim's transaction.

`TagSlots.load` counts the in-progress runs per limited tag (the few in-progress runs
through the status index, then their tags through run_tags' primary key); the claim then
asks it which queued runs may start and takes their slots as it claims them. The
limits that are full also become SQL conditions, so the claim's query skips the runs
they block instead of stopping at the first one (no head-of-line blocking).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.records import (
    IN_PROGRESS_RUN_STATUSES,
    DeploymentScope,
    TagConcurrencyLimit,
)
from weir_controlplane.storage.schema import run_tags, runs

# One counter per limit and tag value; None stands for "any value" (a key-only limit).
_Bucket = tuple[int, str | None]


class TagSlots:
    """The in-progress count behind each tag limit, for one claim."""

    def __init__(self, limits: Sequence[TagConcurrencyLimit], counts: Mapping[_Bucket, int]):
        self.limits = tuple(limits)
        self._counts: Counter[_Bucket] = Counter(counts)

    @classmethod
    def load(
        cls, conn: Connection, scope: DeploymentScope, limits: Sequence[TagConcurrencyLimit]
    ) -> TagSlots:
        if not limits:
            return cls((), {})
        # Two lookups rather than a join, so no planner walks every run ever tagged: the
        # in-progress runs (at most the deployment's slots) first, then just their tags.
        in_progress = sa.select(runs.c.run_id).where(
            runs.c.deployment_id == scope.deployment_id,
            runs.c.status.in_([status.value for status in IN_PROGRESS_RUN_STATUSES]),
        )
        run_ids = list(conn.execute(in_progress).scalars())
        counts: Counter[_Bucket] = Counter()
        if not run_ids:
            return cls(limits, counts)
        # By run id alone (the ids are the deployment's): a deployment filter would tempt
        # SQLite into walking the (deployment, key) index over every run ever tagged.
        tags = sa.select(run_tags.c.key, run_tags.c.value).where(
            run_tags.c.run_id.in_(run_ids),
            run_tags.c.key.in_(sorted({limit.key for limit in limits})),
        )
        for key, value in conn.execute(tags):
            for bucket in _buckets(limits, {key: value}):
                counts[bucket] += 1
        return cls(limits, counts)

    @property
    def keys(self) -> list[str]:
        return sorted({limit.key for limit in self.limits})

    def admits(self, tags: Mapping[str, str]) -> bool:
        return all(
            self._counts[bucket] < self.limits[bucket[0]].limit
            for bucket in _buckets(self.limits, tags)
        )

    def take(self, tags: Mapping[str, str]) -> None:
        for bucket in _buckets(self.limits, tags):
            self._counts[bucket] += 1

    def not_blocked(self) -> list[sa.ColumnElement[bool]]:
        """Conditions on `runs` leaving out the runs a full limit blocks."""
        conditions = []
        for index, limit in enumerate(self.limits):
            tagged = run_tags.c.run_id == runs.c.run_id, run_tags.c.key == limit.key
            if limit.value is None and limit.per_unique_value:
                full = sorted(
                    value
                    for (at, value), count in self._counts.items()
                    if at == index and value is not None and count >= limit.limit
                )
                if full:
                    conditions.append(~sa.exists().where(*tagged, run_tags.c.value.in_(full)))
            elif self._counts[(index, limit.value)] >= limit.limit:
                if limit.value is None:
                    conditions.append(~sa.exists().where(*tagged))
                else:
                    conditions.append(~sa.exists().where(*tagged, run_tags.c.value == limit.value))
        return conditions


def _buckets(limits: Sequence[TagConcurrencyLimit], tags: Mapping[str, str]) -> Iterable[_Bucket]:
    """The counters a run with `tags` counts toward."""
    for index, limit in enumerate(limits):
        value = tags.get(limit.key)
        if value is None:
            continue
        if limit.value is not None:
            if value == limit.value:
                yield (index, value)
        elif limit.per_unique_value:
            yield (index, value)
        else:
            yield (index, None)
