"""Automation: jobs' launchers and asset policies.

Schedules and sensors (with the run requests they return) launch runs; automation
conditions, freshness and backfill policies describe assets for the control plane's
daemons. Modules are imported directly (``weir._automation.schedules``): this package
imports nothing, so ``weir._jobs`` can use its helpers without an import cycle.
"""
