"""Freshness policies evaluated without user code (policy.py): the state now and when it
would next change. The daemon that applies them is daemons/freshness.py; states and due
times live in storage/freshness.py, the health they feed in storage/health.py."""

from __future__ import annotations

from weir_controlplane.freshness.policy import InvalidPolicyError, PolicyOutcome, evaluate

__all__ = ["InvalidPolicyError", "PolicyOutcome", "evaluate"]
