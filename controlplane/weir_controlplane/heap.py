"""The control plane's garbage-collector settings, applied once it has started.

A control plane holds a large, long-lived heap (modules, schemas, snapshots) and, with
many WatchRun streams open, makes short-lived objects fast. With the default settings
a full collection walks the whole heap every few seconds and stops every thread for
over 100 ms: heartbeats and reads then wait for it. Objects alive at start-up are moved
out of the collector's sight, and the young generation is collected less often.
"""

from __future__ import annotations

import ctypes
import gc

# Allocations between young collections (default 700), then the older generations' ratios.
GC_THRESHOLDS = (10_000, 20, 50)


def settle_after_startup() -> None:
    """Freeze what start-up allocated and space collections out. Idempotent."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    release_free_heap()


def release_free_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim): start-up
    frees more than idle serving ever allocates again. Nothing where there is no glibc."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
