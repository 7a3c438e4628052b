"""The collector settings a serving process runs with: paused while the server imports,
collecting again (less often) once start-up freezes what the imports made."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from weir_controlplane import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _cycles_alive() -> int:
    return sum(isinstance(o, _Cycle) for o in gc.get_objects())


@pytest.mark.usefixtures("restored_collector")
def test_garbage_made_after_the_imports_is_collected_though_the_imports_paused_it() -> None:
    heap.pause_collection()
    assert not gc.isenabled()
    heap.freeze_imported()
    assert gc.isenabled() and gc.get_threshold() == heap.GC_THRESHOLDS
    # Start-up's garbage: more young allocations than a threshold, so the collector runs.
    for _ in range(3 * heap.GC_THRESHOLDS[0]):
        _Cycle()
    assert _cycles_alive() < heap.GC_THRESHOLDS[0]
    heap.settle_after_startup()
    assert _cycles_alive() == 0
