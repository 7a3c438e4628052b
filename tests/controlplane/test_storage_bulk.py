"""Writing a tick's thousands of rows at once (storage/bulk.py): every row arrives with its
own values and the shared ones, in order, and a second write of the same keys updates
them, however many statements the rows take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from weir_controlplane.storage import DeploymentScope, Storage
from weir_controlplane.storage.automation import NewEvaluation

# More rows than one SQLite statement takes of either table (a few hundred), and not a
# multiple of a statement's: the last statement is a shorter one.
ROWS = 1_234


def _finish(
    storage: Storage,
    scope: DeploymentScope,
    at: datetime,
    states: dict[str, str],
    evaluations: list[NewEvaluation],
) -> int:
    automation = storage.automation
    claim = automation.claim_tick(
        scope, owner="a", now=at, interval=timedelta(0), lease=timedelta(seconds=60)
    )
    assert claim is not None
    assert automation.finish_tick(
        scope, "a", claim, now=at, event_cursor=0, carry={}, states=states, evaluations=evaluations
    )
    return claim.tick_number


def test_a_ticks_many_rows_are_each_stored_and_updated(
    storage: Storage, scope: DeploymentScope
) -> None:
    names = [f"asset_{i:04d}" for i in range(ROWS)]
    first = datetime(2026, 3, 1, tzinfo=UTC)
    _finish(
        storage,
        scope,
        first,
        {name: f'{{"hash": "h", "n": {i}}}' for i, name in enumerate(names)},
        [
            NewEvaluation(name, i % 3, [f"p{i}"] if i % 3 else [], [], None, name.encode())
            for i, name in enumerate(names)
        ],
    )
    second = first + timedelta(minutes=1)
    tick = _finish(
        storage,
        scope,
        second,
        {name: f'{{"hash": "h", "n": {-i}}}' for i, name in enumerate(names)},
        [NewEvaluation(name, 0, [], ["run"], "failed", b"") for name in names[::2]],
    )

    states = storage.automation.asset_states(scope)
    assert states == {name: {"hash": "h", "n": -i} for i, name in enumerate(names)}
    for i, name in enumerate(names):
        history = storage.automation.list_evaluations(scope, name).items
        newest = history[0]
        if i % 2 == 0:
            assert (newest.tick_number, newest.evaluated_at, newest.error) == (
                tick,
                second,
                "failed",
            )
            assert newest.run_ids == ("run",)
        oldest = history[-1]
        assert len(history) == (2 if i % 2 == 0 else 1)
        assert (oldest.evaluated_at, oldest.requested_count, oldest.body) == (
            first,
            i % 3,
            name.encode(),
        )
        assert oldest.requested_partitions == ((f"p{i}",) if i % 3 else ())
