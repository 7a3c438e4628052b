"""`Storage`: the storage classes over one database, opened and migrated together."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from weir_controlplane.storage.access import AccessStorage
from weir_controlplane.storage.alerts import AlertStorage
from weir_controlplane.storage.asset_revisions import AssetRevisions
from weir_controlplane.storage.assets import AssetStorage
from weir_controlplane.storage.audit import AuditLog
from weir_controlplane.storage.automation import AutomationStorage
from weir_controlplane.storage.backfills import BackfillStorage
from weir_controlplane.storage.code_locations import CodeLocationStorage
from weir_controlplane.storage.deployments import DeploymentStorage
from weir_controlplane.storage.dynamic_partitions import DynamicPartitionStorage
from weir_controlplane.storage.engine import Database, create_engine
from weir_controlplane.storage.events import EventIngest, EventLog
from weir_controlplane.storage.feeds import EventFeeds
from weir_controlplane.storage.freshness import FreshnessStorage
from weir_controlplane.storage.health import HealthStorage
from weir_controlplane.storage.instigators import InstigatorStorage
from weir_controlplane.storage.metadata import MetadataStorage
from weir_controlplane.storage.migrations.runner import upgrade_to_head
from weir_controlplane.storage.partition_status import PartitionStatusStorage
from weir_controlplane.storage.replicas import ReplicaStorage
from weir_controlplane.storage.runs import RunStorage
from weir_controlplane.storage.step_attempts import StepAttemptStorage


@dataclass(frozen=True)
class Storage:
    """Each storage class over one shared database; hand services only the ones they use.

    Example::

        storage = Storage.open("sqlite:///weir.db")  # or None for $WEIR_DATABASE_URL / ~/.weir
        scope = storage.deployments.get_scope("prod")
        run = storage.runs.create_run(scope, NewRun(code_location="etl", selection="*"))
        storage.close()
    """

    database: Database
    deployments: DeploymentStorage
    code_locations: CodeLocationStorage
    runs: RunStorage
    events: EventIngest
    event_log: EventLog
    assets: AssetStorage
    access: AccessStorage
    audit: AuditLog
    instigators: InstigatorStorage
    feeds: EventFeeds
    partition_status: PartitionStatusStorage
    dynamic_partitions: DynamicPartitionStorage
    automation: AutomationStorage
    backfills: BackfillStorage
    replicas: ReplicaStorage
    step_attempts: StepAttemptStorage
    alerts: AlertStorage
    health: HealthStorage
    freshness: FreshnessStorage
    metadata: MetadataStorage
    asset_revisions: AssetRevisions

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Storage:
        """Connect to `url` and, unless `migrate` is False, upgrade its schema to head."""
        engine = create_engine(url)
        if migrate:
            upgrade_to_head(engine)
        return cls.from_engine(engine)

    @classmethod
    def from_engine(cls, engine: Engine) -> Storage:
        db = Database(engine)
        events = EventIngest(db)
        return cls(
            database=db,
            deployments=DeploymentStorage(db),
            code_locations=CodeLocationStorage(db),
            runs=RunStorage(db),
            events=events,
            event_log=EventLog(db),
            assets=AssetStorage(db),
            access=AccessStorage(db),
            audit=AuditLog(db),
            instigators=InstigatorStorage(db),
            feeds=EventFeeds(db),
            partition_status=PartitionStatusStorage(db),
            dynamic_partitions=DynamicPartitionStorage(db),
            automation=AutomationStorage(db),
            backfills=BackfillStorage(db),
            replicas=ReplicaStorage(db),
            step_attempts=StepAttemptStorage(db, events),
            alerts=AlertStorage(db),
            health=HealthStorage(db),
            freshness=FreshnessStorage(db),
            metadata=MetadataStorage(db),
            asset_revisions=AssetRevisions(db),
        )

    def close(self) -> None:
        self.database.dispose()
