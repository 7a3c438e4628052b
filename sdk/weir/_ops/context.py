"""OpExecutionContext: what an op function can ask about its run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir._context import AssetExecutionContext, RunLog


class OpExecutionContext(AssetExecutionContext):
    """Passed to an op whose first parameter is ``context``: ``context.log``,
    ``context.resources``, ``context.op_config`` (the op's config as a dict), ``run_id``."""

    def __init__(
        self,
        *,
        run_id: str,
        node_name: str,
        job_name: str,
        resources: Mapping[str, Any],
        log: RunLog,
        op_config: Any = None,
        run_tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
    ):
        super().__init__(
            run_id=run_id,
            node_name=node_name,
            asset_keys=(),
            partition_key=partition_key,
            resources=resources,
            log=log,
            op_config=op_config,
            run_tags=run_tags,
        )
        self.job_name = job_name


def build_op_context(
    *,
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    partition_key: str | None = None,
    run_tags: Mapping[str, str] | None = None,
) -> OpExecutionContext:
    """A context for calling an op function directly in a unit test.

    >>> context = build_op_context(op_config={"limit": 3})
    >>> context.op_config["limit"]
    3
    """
    lines: list[tuple[str, int, str]] = []
    return OpExecutionContext(
        run_id="ephemeral",
        node_name="ephemeral",
        job_name="ephemeral",
        resources=resources or {},
        log=RunLog(lambda step, level, text: lines.append((step, level, text)), None),
        op_config=op_config,
        run_tags=run_tags,
        partition_key=partition_key,
    )
