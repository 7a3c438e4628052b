"""The control plane's storage: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Open everything at once with `Storage.open(url)`, or build single storage classes over a
`Database` for a service that needs only one. Every method reading or writing tenant
data takes a `DeploymentScope` from `DeploymentStorage.get_scope(name)`.
"""

from __future__ import annotations

from weir_controlplane.storage.access import AccessStorage, BindingRecord, NewToken, TokenRecord
from weir_controlplane.storage.asset_revisions import AssetRevisions
from weir_controlplane.storage.assets import AssetStorage
from weir_controlplane.storage.audit import AuditEntry, AuditFilter, AuditLog
from weir_controlplane.storage.automation import AutomationStorage
from weir_controlplane.storage.code_locations import CodeLocationStorage
from weir_controlplane.storage.deployments import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_ORGANIZATION,
    Deployment,
    DeploymentStorage,
)
from weir_controlplane.storage.dynamic_partitions import DynamicPartitionStorage
from weir_controlplane.storage.engine import Database, create_engine, default_database_url
from weir_controlplane.storage.errors import (
    CodeLocationNotFoundError,
    DeploymentExistsError,
    DeploymentNotFoundError,
    DuplicateRunError,
    InvalidCursorError,
    InvalidEventError,
    NaiveDatetimeError,
    NotFoundError,
    RoleBindingExistsError,
    RunNotFoundError,
    StorageError,
    TokenNotFoundError,
    UnplannedAssetError,
)
from weir_controlplane.storage.events import EventIngest, EventLog
from weir_controlplane.storage.facade import Storage
from weir_controlplane.storage.freshness import (
    DueAsset,
    FreshnessEvaluation,
    FreshnessRecord,
    FreshnessStorage,
)
from weir_controlplane.storage.health import (
    AssetHealth,
    ChangeKind,
    FreshnessState,
    HealthComponent,
    HealthStatus,
    HealthStorage,
    StatusChange,
    unknown_health,
)
from weir_controlplane.storage.instigators import (
    InstigatorKind,
    InstigatorState,
    InstigatorStatus,
    InstigatorStorage,
    NewTick,
    Tick,
    TickStatus,
)
from weir_controlplane.storage.metadata import MetadataStorage
from weir_controlplane.storage.migrations import upgrade_to_head
from weir_controlplane.storage.partition_status import (
    IndexedPartitions,
    PartitionIndex,
    PartitionStatus,
    PartitionStatusStorage,
)
from weir_controlplane.storage.records import (
    IN_PROGRESS_RUN_STATUSES,
    TERMINAL_RUN_STATUSES,
    AssetSummary,
    CheckResult,
    CodeLocation,
    CodeLocationSource,
    CodeLocationStatus,
    DeploymentScope,
    EventPage,
    EventRecord,
    EventType,
    IngestResult,
    MetadataItem,
    NewEvent,
    NewRun,
    Page,
    PartitionCounts,
    PartitionOutcome,
    Run,
    RunFilter,
    RunStatus,
    TagConcurrencyLimit,
)
from weir_controlplane.storage.runs import RunStorage

__all__ = [
    "DEFAULT_DEPLOYMENT",
    "DEFAULT_ORGANIZATION",
    "IN_PROGRESS_RUN_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "AccessStorage",
    "AssetHealth",
    "AssetRevisions",
    "AssetStorage",
    "AssetSummary",
    "AuditEntry",
    "AuditFilter",
    "AuditLog",
    "AutomationStorage",
    "BindingRecord",
    "ChangeKind",
    "CheckResult",
    "CodeLocation",
    "CodeLocationNotFoundError",
    "CodeLocationSource",
    "CodeLocationStatus",
    "CodeLocationStorage",
    "Database",
    "Deployment",
    "DeploymentExistsError",
    "DeploymentNotFoundError",
    "DeploymentScope",
    "DeploymentStorage",
    "DueAsset",
    "DuplicateRunError",
    "DynamicPartitionStorage",
    "EventIngest",
    "EventLog",
    "EventPage",
    "EventRecord",
    "EventType",
    "FreshnessEvaluation",
    "FreshnessRecord",
    "FreshnessState",
    "FreshnessStorage",
    "HealthComponent",
    "HealthStatus",
    "HealthStorage",
    "IndexedPartitions",
    "IngestResult",
    "InstigatorKind",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorStorage",
    "InvalidCursorError",
    "InvalidEventError",
    "MetadataItem",
    "MetadataStorage",
    "NaiveDatetimeError",
    "NewEvent",
    "NewRun",
    "NewTick",
    "NewToken",
    "NotFoundError",
    "Page",
    "PartitionCounts",
    "PartitionIndex",
    "PartitionOutcome",
    "PartitionStatus",
    "PartitionStatusStorage",
    "RoleBindingExistsError",
    "Run",
    "RunFilter",
    "RunNotFoundError",
    "RunStatus",
    "RunStorage",
    "StatusChange",
    "Storage",
    "StorageError",
    "TagConcurrencyLimit",
    "Tick",
    "TickStatus",
    "TokenNotFoundError",
    "TokenRecord",
    "UnplannedAssetError",
    "create_engine",
    "default_database_url",
    "unknown_health",
    "upgrade_to_head",
]
