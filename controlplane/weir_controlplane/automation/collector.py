"""The cyclic garbage collector held off while a tick runs.

A tick over thousands of assets new to the evaluator allocates tens of thousands of
small objects that live until its end (facts, memories, evaluations, messages, rows), so
collection after collection walks them, and the older collections they trigger walk the
memories kept from the previous tick too: 10-15% of such a tick's CPU time
(bench/automation.py), freeing nothing. What a tick builds is acyclic and freed by
reference counting, so the collector waits for the tick's end; a tick is bounded by its
lease, so other threads' cyclic garbage waits at most that long. Counted, so ticks of
several daemons in one process overlap safely; the collector is enabled again only if
it was when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Example::

    with collector_paused():
        ...  # a tick's allocations, not walked by the collector meanwhile
    """
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
