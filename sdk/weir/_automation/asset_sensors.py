"""@asset_sensor: react to new materializations of one asset.

Each tick the control plane hands the sensor the asset's materializations stored since the
cursor (`context.asset_events`). The function is called once, with the newest of them, and
the cursor then moves to that event's storage id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weir._automation.evaluation import call_evaluation_fn
from weir._automation.run_request import SkipReason
from weir._automation.sensors import (
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    storage_id_cursor,
)
from weir._jobs import JobDefinition
from weir._key import AssetKey, CoercibleToAssetKey


@dataclass(frozen=True)
class AssetEventRecord:
    """A stored materialization of an asset, as an asset sensor receives it.

    `storage_id` orders events; the sensor's cursor is the last one it handled.
    """

    asset_key: AssetKey
    storage_id: int
    run_id: str | None = None
    partition_key: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    timestamp: float = 0.0


class AssetSensorDefinition(SensorDefinition):
    """A sensor called with the newest materialization of `asset_key` since its cursor."""

    _positional_params = 2  # (context, asset_event)

    def __init__(self, name: str | None = None, *, asset_key: CoercibleToAssetKey, **kwargs: Any):
        self.asset_key = AssetKey.from_coercible(asset_key)
        super().__init__(name, **kwargs)

    def _evaluate(self, context: SensorEvaluationContext) -> Any:
        after = storage_id_cursor(context.cursor, f"Asset sensor '{self.name}'")
        new = [
            e
            for e in context.asset_events
            if e.asset_key == self.asset_key and (after is None or e.storage_id > after)
        ]
        if not new:
            return SkipReason(f"No new materialization of '{self.asset_key.to_user_string()}'")
        latest = max(new, key=lambda e: e.storage_id)
        result = call_evaluation_fn(
            self.evaluation_fn, self._params, [context, latest], context.resources
        )
        # Set directly rather than through update_cursor: the function may still return a
        # SensorResult with a cursor of its own, which then wins.
        context._cursor = str(latest.storage_id)
        return result


def asset_sensor(
    asset_key: CoercibleToAssetKey,
    *,
    name: str | None = None,
    job: JobDefinition | None = None,
    jobs: Sequence[JobDefinition] | None = None,
    job_name: str | None = None,
    target: Any = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], AssetSensorDefinition]:
    """Declare a sensor called with each new materialization of `asset_key`.

    The function takes ``(context, asset_event)`` (plus resources by name) and returns what a
    sensor returns.

    >>> from weir import RunRequest
    >>> @asset_sensor(asset_key="raw/orders", job_name="refresh_reports")
    ... def orders_updated(context, asset_event):
    ...     return RunRequest(run_key=str(asset_event.storage_id))
    """

    def build(fn: Callable[..., Any]) -> AssetSensorDefinition:
        return AssetSensorDefinition(
            name or fn.__name__,
            asset_key=asset_key,
            evaluation_fn=fn,
            job=job,
            jobs=jobs,
            job_name=job_name,
            target=target,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            tags=tags,
            metadata=metadata,
        )

    return build
