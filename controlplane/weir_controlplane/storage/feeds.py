"""The event feeds sensors read: a deployment's events of some types (and assets) after
an event id, oldest first.

Event ids are global and only grow, so "after id N" never skips a late event. Asset
feeds read through `ix_event_log_asset`, run-status feeds through
`ix_event_log_deployment_id_event_type_id`; neither scans the log.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.events import event_record
from weir_controlplane.storage.records import DeploymentScope, EventRecord
from weir_controlplane.storage.schema import event_log


class EventFeeds:
    def __init__(self, db: Database) -> None:
        self._db = db

    def latest_id(
        self,
        scope: DeploymentScope,
        event_types: Collection[str],
        asset_keys: Collection[str] | None = None,
    ) -> int:
        """The id of the newest matching event; 0 when there is none."""
        query = sa.select(sa.func.max(event_log.c.id)).where(
            *_matching(scope, event_types, asset_keys)
        )
        with self._db.read() as conn:
            return conn.execute(query).scalar_one_or_none() or 0

    def after(
        self,
        scope: DeploymentScope,
        event_types: Collection[str],
        after_id: int,
        *,
        asset_keys: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        """Matching events stored after `after_id`, oldest first, at most `limit`."""
        query = (
            sa.select(event_log)
            .where(*_matching(scope, event_types, asset_keys), event_log.c.id > after_id)
            .order_by(event_log.c.id)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [event_record(row) for row in conn.execute(query)]


def _matching(
    scope: DeploymentScope, event_types: Collection[str], asset_keys: Collection[str] | None
) -> list[sa.ColumnElement[bool]]:
    conditions = [
        event_log.c.deployment_id == scope.deployment_id,
        event_log.c.event_type.in_(sorted(event_types)),
    ]
    if asset_keys is not None:
        conditions.append(event_log.c.asset_key.in_(sorted(asset_keys)))
    return conditions
