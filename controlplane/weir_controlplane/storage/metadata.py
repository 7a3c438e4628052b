"""Materialization metadata stored typed and searchable, written in the ingest transaction.

Each entry of a stored materialization becomes a `materialization_metadata` row, so
"materializations of `orders` with a `row_count`" and "assets that ever reported a
`dagster/uri`" are index lookups, not payload scans.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.derived import StoredEvent
from weir_controlplane.storage.dialects import append_rows
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, EventType
from weir_controlplane.storage.schema import materialization_metadata

# Longer keys are not searchable (the column holds 255 characters); the payload keeps them.
MAX_KEY_LENGTH = 255


def insert_metadata(conn: Connection, deployment_id: int, stored: Sequence[StoredEvent]) -> None:
    rows = []
    for item in stored:
        event = item.event
        if event.event_type != EventType.ASSET_MATERIALIZATION or not event.metadata:
            continue
        seen: set[str] = set()
        for entry in event.metadata:
            if entry.key in seen or len(entry.key) > MAX_KEY_LENGTH:
                continue  # a repeated label: the first one is the searchable one
            seen.add(entry.key)
            rows.append(
                {
                    "deployment_id": deployment_id,
                    "event_id": item.event_id,
                    "asset_key": event.asset_key,
                    "key": entry.key,
                    "value_type": entry.value_type,
                    "text_value": entry.text,
                    "number_value": entry.number,
                }
            )
    append_rows(conn, materialization_metadata, rows)


class MetadataStorage:
    """Search by runtime metadata key.

    Example::

        storage.metadata.assets_with_key(scope, "row_count")  # {"orders", "revenue"}
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def assets_with_key(self, scope: DeploymentScope, key: str) -> set[str]:
        """The assets any of whose materializations carried metadata `key`."""
        c = materialization_metadata.c
        query = (
            sa.select(c.asset_key)
            .where(c.deployment_id == scope.deployment_id, c.key == key)
            .distinct()
        )
        with self._db.read() as conn:
            return set(conn.execute(query).scalars())


def events_with_key(deployment_id: int, asset_key: str, key: str) -> sa.Select[tuple[int]]:
    """The event ids of the asset's materializations carrying metadata `key`."""
    c = materialization_metadata.c
    return sa.select(c.event_id).where(
        c.deployment_id == deployment_id, c.asset_key == asset_key, c.key == key
    )
