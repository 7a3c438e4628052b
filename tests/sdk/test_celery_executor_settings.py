"""celery_executor as a user writes it: Dagster-shaped settings, checked at definition time,
queues from tags, and a clear word when it is used where it cannot run."""

from __future__ import annotations

import pytest
import weir as dg
from weir._executors import step_queue


def test_it_is_configured_like_dagster_celery_and_keeps_safe_defaults() -> None:
    executor = dg.celery_executor.configured(
        {"broker": "redis://127.0.0.1:6379/3", "include": ["my.tasks"], "config_source": {}}
    )
    assert executor.is_celery and executor.launches_steps
    assert executor.config["broker"] == "redis://127.0.0.1:6379/3"
    assert executor.config["default_queue"] == "weir"
    assert executor.config["queued_timeout_seconds"] == 600.0  # an unserved queue fails
    assert executor.configured({"queue_concurrency": {"gpu": 2}}).config["queue_concurrency"] == {
        "gpu": 2
    }


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"broker": "localhost"}, "broker must be a URL"),
        ({"include": "my.tasks"}, "include must be a list"),
        ({"queue_concurrency": {"gpu": 0}}, "queue_concurrency"),
        ({"lease_seconds": 5, "heartbeat_seconds": 10}, "must be longer than heartbeat_seconds"),
        ({"backend": "rpc://"}, "has no setting 'backend'"),
        ({"queued_timeout_seconds": 0}, "queued_timeout_seconds must be a positive number"),
    ],
)
def test_bad_settings_are_refused_naming_what_to_fix(config: dict, needle: str) -> None:
    with pytest.raises(dg.DefinitionError, match=needle):
        dg.celery_executor.configured(config)


def test_a_step_s_queue_comes_from_its_op_tag_or_asset_tag() -> None:
    @dg.asset(op_tags={"weir-celery/queue": "gpu"})
    def trained() -> int:
        return 1

    @dg.asset(tags={"dagster-celery/queue": "io"})
    def loaded() -> int:
        return 1

    @dg.asset
    def plain() -> int:
        return 1

    assert step_queue(trained, "weir") == "gpu"
    assert step_queue(loaded, "weir") == "io"
    assert step_queue(plain, "weir") == "weir"


def test_materialize_says_where_the_celery_executor_runs() -> None:
    @dg.asset
    def one() -> int:
        return 1

    with pytest.raises(dg.DefinitionError, match="runs steps on Celery workers"):
        dg.materialize([one], executor=dg.celery_executor)
