"""The control plane's garbage-collector settings, applied once it has started.

A control plane holds a large, long-lived heap (modules, schemas, snapshots) and, with
many WatchRun streams open, makes short-lived objects fast. With the default settings
a full collection walks the whole heap every few seconds and stops every thread for
over 100 ms: heartbeats and reads then wait for it. Objects alive at start-up are moved
out of the collector's sight, and the young generation is collected less often.
"""

from __future__ import annotations

import gc

# Allocations between young collections (default 700), then the older generations' ratios.
GC_THRESHOLDS = (10_000, 20, 50)


def settle_after_startup() -> None:
    """Freeze what start-up allocated and space collections out. Idempotent."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
