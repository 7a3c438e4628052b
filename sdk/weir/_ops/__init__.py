"""Ops, graphs and op jobs: computations wired by hand, for work that is not an asset."""
