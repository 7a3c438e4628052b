"""Fixtures of the code-server tests; see codeserver_harness.py."""

from codeserver_harness import collector, gate, shared_codeserver, start_codeserver, weir_home

__all__ = ["collector", "gate", "shared_codeserver", "start_codeserver", "weir_home"]
