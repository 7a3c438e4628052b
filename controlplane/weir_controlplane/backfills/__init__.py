"""Backfills: the runs that materialize many partitions of many assets, planned from the
snapshot alone (`planner`), cut into runs by each asset's backfill policy (`chunks`)."""

from weir_controlplane.backfills.chunks import RunPolicy
from weir_controlplane.backfills.planner import BackfillPlan, PlannedRun, plan_backfill

__all__ = ["BackfillPlan", "PlannedRun", "RunPolicy", "plan_backfill"]
