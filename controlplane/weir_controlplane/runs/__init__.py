"""Runs: submission, the event-woken queue, launching on code locations, liveness."""

from weir_controlplane.runs.coordinator import RunCoordinator, RunSettings

__all__ = ["RunCoordinator", "RunSettings"]
