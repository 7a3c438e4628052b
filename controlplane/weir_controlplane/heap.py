"""The control plane's garbage-collector settings, applied once it has started.

A control plane holds a large, long-lived heap (modules, schemas, snapshots) and, with
many WatchRun streams open, makes short-lived objects fast. With the default settings
a full collection walks the whole heap every few seconds and stops every thread for
over 100 ms: heartbeats and reads then wait for it. Objects alive at start-up are moved
out of the collector's sight, and the young generation is collected less often.

What the imports made (modules, classes, functions: some 130,000 objects, alive as long
as the process, of which a collection right after them finds some 700 garbage) is moved
out first, before start-up builds its state, so the one full collection at the end of
start-up walks only what start-up made: it took 55 ms longer with them, with a
10,000-asset location waiting to be served. The serving commands pause the collector
while they import: with the default thresholds the imports ran some 140 collections, one
of them full, for that garbage (60-130 ms, measured on a loaded machine, of a start-up
competing for the cores with the code servers' own).
"""

from __future__ import annotations

import ctypes
import gc

# Allocations between young collections (default 700), then the older generations' ratios.
GC_THRESHOLDS = (10_000, 20, 50)


def pause_collection() -> None:
    """No collections until `freeze_imported`: call before importing the server."""
    gc.disable()


def resume_collection() -> None:
    """Collect again, should start-up have ended before `freeze_imported` (a refused
    setting): a caller running the command in its own process goes on with a collector."""
    gc.enable()


def freeze_imported() -> None:
    """Move what exists now (what the imports made) out of the collector's sight and
    collect again if paused, the young generation from now on less often: start-up goes
    on to build a large location's graph and state, which no young collection frees."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()


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
