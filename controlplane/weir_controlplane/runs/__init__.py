"""Runs: submission, the event-woken queue, launching on code locations, liveness."""

from weir_controlplane.runs.coordinator import RunCoordinator, RunSettings
from weir_controlplane.runs.notifier import RunNotifier, RunWatch

__all__ = ["RunCoordinator", "RunNotifier", "RunSettings", "RunWatch"]
