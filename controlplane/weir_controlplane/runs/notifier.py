"""RunNotifier: wakes the asyncio watchers of a run when something about it is stored.

Event ingest and run transitions are synchronous storage code in worker threads; the
watchers (WatchRun streams) are coroutines on one or more event loops. A ring carries
no payload: it only says "read again", and each watcher reads storage from its own
cursor. So a slow watcher holds no queue, and a run nobody watches costs nothing:

    notifier = RunNotifier()
    with notifier.watch(run_id) as changes:     # on an event loop
        while ...:
            read from storage after the cursor; send
            await changes.wait(timeout=5)       # a ring, or read anyway after 5 s
    notifier.ring(run_id)                       # from any thread, after the commit

Subscribe before the first read: a ring that lands between a read and the wait is kept
by the watch's event, so nothing stored after a read can be missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RunWatch:
    """One watcher's wake-up: set by rings, cleared by the watcher when it wakes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Until the run changes or `timeout` passes (the caller reads either way); then
        re-armed. A timer, not `asyncio.wait_for`: no task per wait."""
        timer = self.loop.call_later(timeout, self._changed.set)
        try:
            await self._changed.wait()
        finally:
            timer.cancel()
            self._changed.clear()

    def _set(self) -> None:
        self._changed.set()


class RunNotifier:
    """Per-run wake-ups for watchers on any event loop, rung from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # run id -> its current watchers; a run leaves the map with its last watcher.
        self._watches: dict[str, set[RunWatch]] = {}

    @contextmanager
    def watch(self, run_id: str) -> Iterator[RunWatch]:
        """A wake-up for `run_id`, for the calling event loop, dropped on exit."""
        watch = RunWatch(asyncio.get_running_loop())
        with self._lock:
            self._watches.setdefault(run_id, set()).add(watch)
        try:
            yield watch
        finally:
            with self._lock:
                watches = self._watches.get(run_id)
                if watches is not None:
                    watches.discard(watch)
                    if not watches:
                        del self._watches[run_id]

    def ring(self, run_id: str) -> None:
        """Something about `run_id` was stored: wake its watchers (one hop per loop)."""
        with self._lock:
            watches = tuple(self._watches.get(run_id, ()))
        by_loop: dict[asyncio.AbstractEventLoop, list[RunWatch]] = {}
        for watch in watches:
            by_loop.setdefault(watch.loop, []).append(watch)
        for loop, woken in by_loop.items():
            # A closed loop's watchers are gone with it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_all, woken)

    def is_watched(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._watches

    def watched_runs(self) -> int:
        """How many runs have a watcher: the notifier's whole state."""
        with self._lock:
            return len(self._watches)


def _set_all(watches: list[RunWatch]) -> None:
    for watch in watches:
        watch._set()
