"""Benchmarks that run the same user code on Weir and on Dagster, side by side.

`bench/run.py` is the entry point (`make bench`); see bench/README.md.
"""
