"""WatchRun as an async generator: a stream holds no thread while it waits.

A stream subscribes to the RunNotifier before its first read, then loops: read the run
and the events after its cursor (in a worker thread: storage is synchronous), send
them, and wait for the next ring. Subscribing first means an event stored while the
stream reads its backlog rings a wake-up that is still pending when it starts to wait,
so nothing falls between the backlog and the live tail. A ring carries nothing; the
stream reads storage from its own cursor, at most WATCH_BATCH events per message.

Watchers of one run wake together on each ring and mostly stand at the same cursor,
so `SharedReads` makes them share one storage read and one reply message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert, paging
from weir_controlplane.runs import RunNotifier
from weir_controlplane.storage import DeploymentScope, EventLog, Run, RunStatus, RunStorage

# How long a stream waits for a ring before reading anyway: events another control-plane
# replica stored ring only that replica's notifier.
WATCH_WAKE_SECONDS = 5.0
# Events per WatchRun message at most; a backlog goes out in several messages.
WATCH_BATCH = 1000


@dataclass(frozen=True)
class WatchStep:
    """One read of a watched run: the reply to send, and where the stream stands."""

    reply: cp.WatchRunResponse
    status: RunStatus
    has_events: bool
    has_more: bool


_ReadKey = tuple[int, str, str]  # deployment id, run id, cursor
_Reads = dict[_ReadKey, "asyncio.Future[WatchStep]"]


class SharedReads:
    """Storage reads of watched runs, shared by the streams that ask for the same run at
    the same cursor at the same time; reads run on `executor`, never on the loop."""

    def __init__(self, runs: RunStorage, event_log: EventLog, executor: Executor) -> None:
        self._runs = runs
        self._event_log = event_log
        self._executor = executor
        # Reads in flight on each loop; an entry leaves when its read is done.
        self._in_flight: dict[asyncio.AbstractEventLoop, _Reads] = {}

    async def read(self, scope: DeploymentScope, run_id: str, cursor: str) -> WatchStep:
        loop = asyncio.get_running_loop()
        reads = self._in_flight.setdefault(loop, {})
        key = (scope.deployment_id, run_id, cursor)
        future = reads.get(key)
        if future is None:
            future = loop.run_in_executor(self._executor, self._read, scope, run_id, cursor)
            reads[key] = future
            future.add_done_callback(_forget(reads, key, self._in_flight, loop))
        # Shielded: a stream that leaves must not cancel the read the others wait for.
        return await asyncio.shield(future)

    async def latest_cursor(self, scope: DeploymentScope, run_id: str) -> str | None:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._event_log.latest_cursor, scope, run_id
        )

    async def get_run(self, scope: DeploymentScope, run_id: str) -> Run:
        """The run; RunNotFoundError (NOT_FOUND) for an unknown one."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._runs.get_run, scope, run_id
        )

    def _read(self, scope: DeploymentScope, run_id: str, cursor: str) -> WatchStep:
        # The run before its events: once it reads as ended, its last event is stored.
        run = self._runs.get_run(scope, run_id)
        page = self._event_log.get_run_events(scope, run_id, after_cursor=cursor, limit=WATCH_BATCH)
        events = [convert.run_event_proto(record) for record in page.items]
        fitting = paging.fitting(events)
        if fitting < len(events):  # too big for one message: the rest goes in the next
            page = self._event_log.get_run_events(scope, run_id, after_cursor=cursor, limit=fitting)
            events = events[:fitting]
        reply = cp.WatchRunResponse(
            events=events,
            run=convert.run_proto(run),
            cursor=page.cursor or cursor,
        )
        return WatchStep(reply, run.status, bool(page.items), page.has_more)


def _forget(
    reads: _Reads,
    key: _ReadKey,
    by_loop: dict[asyncio.AbstractEventLoop, _Reads],
    loop: asyncio.AbstractEventLoop,
) -> Callable[[asyncio.Future[WatchStep]], None]:
    def done(future: asyncio.Future[WatchStep]) -> None:
        reads.pop(key, None)
        if not reads:
            by_loop.pop(loop, None)
        if not future.cancelled():
            future.exception()  # retrieved: every waiter may have left

    return done


async def watch_run(
    scope: DeploymentScope,
    run_id: str,
    cursor: str,
    *,
    notifier: RunNotifier,
    reads: SharedReads,
    authorize: Callable[[Run], None] = lambda run: None,
    from_latest: bool = False,
) -> AsyncGenerator[cp.WatchRunResponse]:
    """The run's events after `cursor` (or, `from_latest`, after its newest stored event)
    as they are stored, with the run's state; the first reply comes at once, the last is
    the one that shows the run ended. `authorize` may refuse the run (its code location)
    before anything is sent."""
    authorize(await reads.get_run(scope, run_id))  # NOT_FOUND before the stream starts
    if from_latest:
        cursor = await reads.latest_cursor(scope, run_id) or "0"
    sent_status: RunStatus | None = None
    with notifier.watch(run_id) as changes:  # before the first read: no gap
        while True:
            step = await reads.read(scope, run_id, cursor)
            if step.has_events or step.status is not sent_status:
                cursor = step.reply.cursor
                sent_status = step.status
                yield step.reply
            if step.has_more:
                continue
            if step.status.is_terminal:
                return
            await changes.wait(WATCH_WAKE_SECONDS)
