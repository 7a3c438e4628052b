"""`weir.Instance`: what runs recorded, kept in memory, for tests without a server.

A deployment's state lives in the control plane's database; a test wants the same
questions answered in process: the latest materialization of an asset, the keys of a
dynamic partitions definition, what a sensor or an automation condition would see.
`Instance.ephemeral()` is that store: `materialize(..., instance=)` records each run into
it, `report_runless_asset_event` records work done elsewhere. Dagster calls it
`DagsterInstance`, the compatibility name.

It only records and answers; evaluating sensors and conditions is done elsewhere
(`_automation/`), reading it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from weir._errors import DefinitionError
from weir._execution.events import AssetCheckEvaluation, AssetMaterialization, EventType, WeirEvent
from weir._key import AssetKey, CoercibleToAssetKey
from weir._partitions.dynamic import InMemoryDynamicPartitionsStore


@dataclass(frozen=True, slots=True)
class EventLogEntry:
    """One recorded event and its place in the instance's log (`storage_id`, increasing).

    `asset_materialization` / `asset_check_evaluation` give the event's data, as Dagster's
    entries do.
    """

    storage_id: int
    event: WeirEvent

    @property
    def run_id(self) -> str:
        return self.event.run_id

    @property
    def timestamp(self) -> float:
        return self.event.timestamp

    @property
    def event_type(self) -> EventType:
        return self.event.event_type

    @property
    def asset_key(self) -> AssetKey | None:
        return self.event.asset_key

    @property
    def asset_materialization(self) -> AssetMaterialization | None:
        return self.event.materialization

    @property
    def asset_check_evaluation(self) -> AssetCheckEvaluation | None:
        return self.event.asset_check_evaluation


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run the instance has seen: the assets it targeted, its partition, its outcome."""

    run_id: str
    asset_keys: frozenset[AssetKey]
    partition_key: str | None
    success: bool
    failed_keys: frozenset[AssetKey] = frozenset()
    # Where its outcome falls in the instance's log (failures are ordered against
    # materializations by it).
    storage_id: int = 0


@dataclass
class _AssetLog:
    """One asset's entries by partition (None: unpartitioned), latest last."""

    materializations: dict[str | None, EventLogEntry] = field(default_factory=dict)
    failures: dict[str | None, int] = field(default_factory=dict)  # partition -> storage id
    checks: dict[tuple[str, str | None], EventLogEntry] = field(default_factory=dict)


class Instance:
    """Materializations, check evaluations, runs and dynamic partitions, kept in memory.

    >>> import weir as dg
    >>> instance = dg.Instance.ephemeral()
    >>> instance.report_runless_asset_event(dg.AssetMaterialization("orders", metadata={"n": 3}))
    >>> entry = instance.get_latest_materialization_event(dg.AssetKey("orders"))
    >>> entry.asset_materialization.metadata["n"].value
    3
    """

    def __init__(self) -> None:
        self._entries: list[EventLogEntry] = []
        self._last_id = 0  # entries and run outcomes share one sequence of storage ids
        self._assets: dict[AssetKey, _AssetLog] = {}
        self._runs: dict[str, RunRecord] = {}
        self._dynamic = InMemoryDynamicPartitionsStore()

    @classmethod
    def ephemeral(cls) -> Instance:
        """An empty instance in memory, gone with the process: the one tests use."""
        return cls()

    # --- materializations and checks ------------------------------------------------------

    def get_latest_materialization_event(
        self, asset_key: CoercibleToAssetKey
    ) -> EventLogEntry | None:
        """The latest materialization of the asset (any partition), or None if it has none."""
        log = self._assets.get(AssetKey.from_coercible(asset_key))
        if log is None or not log.materializations:
            return None
        return max(log.materializations.values(), key=lambda entry: entry.storage_id)

    def get_latest_materialization_events(
        self, asset_keys: Iterable[CoercibleToAssetKey]
    ) -> dict[AssetKey, EventLogEntry]:
        """The latest materialization of each asset that has one (the others are left out)."""
        found = {}
        for coercible in asset_keys:
            key = AssetKey.from_coercible(coercible)
            entry = self.get_latest_materialization_event(key)
            if entry is not None:
                found[key] = entry
        return found

    def materialized_partitions(
        self, asset_key: CoercibleToAssetKey
    ) -> dict[str | None, EventLogEntry]:
        """The latest materialization of each partition of the asset (None: unpartitioned)."""
        log = self._assets.get(AssetKey.from_coercible(asset_key))
        return dict(log.materializations) if log else {}

    def failed_partitions(self, asset_key: CoercibleToAssetKey) -> set[str | None]:
        """The partitions whose latest run of the asset failed after its latest materialization."""
        log = self._assets.get(AssetKey.from_coercible(asset_key))
        if log is None:
            return set()
        return {
            partition
            for partition, failed_at in log.failures.items()
            if partition not in log.materializations
            or log.materializations[partition].storage_id < failed_at
        }

    def latest_check_evaluations(
        self, asset_key: CoercibleToAssetKey
    ) -> dict[tuple[str, str | None], EventLogEntry]:
        """The latest evaluation of each (check name, partition) of the asset."""
        log = self._assets.get(AssetKey.from_coercible(asset_key))
        return dict(log.checks) if log else {}

    def report_runless_asset_event(
        self, asset_event: AssetMaterialization | AssetCheckEvaluation
    ) -> None:
        """Record a materialization (or check evaluation) of work done outside a run."""
        if isinstance(asset_event, AssetMaterialization):
            event_type = EventType.ASSET_MATERIALIZATION
        elif isinstance(asset_event, AssetCheckEvaluation):
            event_type = EventType.ASSET_CHECK_EVALUATION
        else:
            raise DefinitionError(
                "report_runless_asset_event takes an AssetMaterialization or an "
                f"AssetCheckEvaluation, got {type(asset_event).__name__}"
            )
        self._append(WeirEvent(event_type, "", None, "", asset_event))

    @property
    def last_storage_id(self) -> int:
        """The storage id of the latest record (0 while empty): a cursor into the log."""
        return self._last_id

    def entries_after(self, storage_id: int) -> list[EventLogEntry]:
        """The entries recorded after `storage_id`, oldest first."""
        return [entry for entry in self._entries if entry.storage_id > storage_id]

    # --- runs -----------------------------------------------------------------------------

    def record_run(
        self,
        run_id: str,
        asset_keys: Iterable[AssetKey],
        partition_key: str | None,
        events: Iterable[WeirEvent],
        failed_keys: Iterable[AssetKey] = (),
    ) -> None:
        """Record a finished run: its materializations and check evaluations, and which of
        its assets failed (`materialize(..., instance=)` calls this)."""
        for event in events:
            if event.materialization is not None or event.asset_check_evaluation is not None:
                self._append(event)
        failed = frozenset(failed_keys)
        self._last_id += 1
        for key in failed:
            self._log(key).failures[partition_key] = self._last_id
        self._runs[run_id] = RunRecord(
            run_id, frozenset(asset_keys), partition_key, not failed, failed, self._last_id
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    # --- dynamic partitions (a DynamicPartitionsStore) -------------------------------------

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        """The keys of the dynamic partitions definition, in the order added."""
        return self._dynamic.get_dynamic_partitions(partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return self._dynamic.has_dynamic_partition(partitions_def_name, partition_key)

    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Iterable[str]
    ) -> None:
        """Add keys (those already there are left as they are)."""
        self._dynamic.add_dynamic_partitions(partitions_def_name, partition_keys)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._dynamic.delete_dynamic_partition(partitions_def_name, partition_key)

    # --- storage --------------------------------------------------------------------------

    def _append(self, event: WeirEvent) -> None:
        self._last_id += 1
        entry = EventLogEntry(self._last_id, event)
        self._entries.append(entry)
        data = event.event_specific_data
        if isinstance(data, AssetMaterialization):
            self._log(data.asset_key).materializations[data.partition] = entry
        elif isinstance(data, AssetCheckEvaluation):
            self._log(data.asset_key).checks[(data.check_name, data.partition)] = entry

    def _log(self, key: AssetKey) -> _AssetLog:
        found = self._assets.get(key)
        if found is None:
            found = self._assets[key] = _AssetLog()
        return found

    def __repr__(self) -> str:
        return f"<Instance: {len(self._entries)} events, {len(self._runs)} runs>"


DagsterInstance = Instance  # Dagster's name, for ported code
