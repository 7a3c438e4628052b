"""Keeping a row lease while the work it guards runs.

Leases are short (`DaemonSettings.lease_ttl`, ten seconds by default), so a replica killed
mid-tick holds its schedule, sensor or automation tick only that long before another
replica takes it over. A live replica evaluating for longer (a slow sensor, up to its
timeout) keeps its lease by renewing it every third of the lease from a small thread; a
renewal that finds the lease gone stops, and the tick's finish then stores nothing.

Example::

    with renewed(lambda now: storage.instigators.renew(scope, state, owner, ttl=10, now=now),
                 ttl=10, clock=clock):
        tick = evaluate(...)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)


@contextmanager
def renewed(
    renew: Callable[[datetime], bool], *, ttl: float, clock: Callable[[], datetime]
) -> Iterator[None]:
    """Call `renew(now)` every `ttl / 3` seconds until the block ends or a renewal says
    the lease is no longer held."""
    done = threading.Event()

    def keep() -> None:
        while not done.wait(ttl / 3):
            try:
                if not renew(clock()):
                    return  # lost (or finished just now): finishing says which, not this
            except DatabaseUnavailableError:
                log.warning("could not renew a lease: the database is unavailable; retrying")
            except Exception:
                log.exception("could not renew a lease; retrying")

    thread = threading.Thread(target=keep, name="lease-renewal", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
