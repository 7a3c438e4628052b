"""Another writer's transaction held open, for tests of concurrent writers on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from weir_controlplane.storage import Storage


@contextmanager
def held_write(storage: Storage, change: Callable[[Connection], object]) -> Iterator[None]:
    """A transaction that made `change` and stays open, its locks held, for the block;
    it commits after."""
    changed, release = threading.Event(), threading.Event()

    def hold() -> None:
        with storage.database.write() as conn:
            change(conn)
            changed.set()
            release.wait(30)

    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(hold)
        assert changed.wait(10)
        try:
            yield
        finally:
            release.set()
        holder.result(timeout=10)
