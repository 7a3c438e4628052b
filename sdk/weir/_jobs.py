"""Asset jobs: a named asset selection that schedules, sensors and people launch as one run.

A job holds its selection unresolved; `Definitions` resolves it against the asset graph, so
one job object can serve several code locations and an unknown asset is reported there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir._automation.run_request import str_mapping
from weir._errors import DefinitionError
from weir._executors import ExecutorDefinition
from weir._retries import RetryPolicy
from weir._run_config import RunConfig
from weir._selection import AssetSelection
from weir._specs import validate_name

if TYPE_CHECKING:
    from weir._definitions import Definitions
    from weir._execution.result import ExecuteInProcessResult
    from weir._graph import AssetGraph
    from weir._key import AssetKey
    from weir._ops.compose import GraphDefinition
    from weir._partitions import PartitionsDefinition


class JobDefinition:
    """A named selection of assets, with the tags and config its runs get.

    Made by `define_asset_job`. `selection` is kept as given (a selection string, keys,
    assets or an AssetSelection; None means ``AssetSelection.all()``).
    """

    graph: GraphDefinition | None = None  # the op graph of an op job (`@job`); none here
    _definitions: Definitions | None = None  # set on the copy `Definitions.get_job_def` returns

    def __init__(
        self,
        name: str,
        selection: Any = None,
        *,
        config: RunConfig | Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: PartitionsDefinition | None = None,
        executor_def: ExecutorDefinition | None = None,
        op_retry_policy: RetryPolicy | None = None,
    ):
        self.name = validate_name(name, "Job name")
        where = f"Job '{name}'"
        if isinstance(config, RunConfig):
            config = config.to_config_dict()
        if config is not None and not isinstance(config, Mapping):
            raise DefinitionError(
                f"{where} config must be a run config dict such as "
                f"{{'ops': {{'my_asset': {{'config': {{...}}}}}}}}, got {type(config).__name__}"
            )
        self.selection = selection
        self.config: dict[str, Any] | None = dict(config) if config is not None else None
        self.description = description
        self.tags = str_mapping(tags, f"{where} tags")
        self._run_tags = (
            str_mapping(run_tags, f"{where} run_tags") if run_tags is not None else None
        )
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        if executor_def is not None and not isinstance(executor_def, ExecutorDefinition):
            raise DefinitionError(
                f"{where} executor_def must be an executor such as multiprocess_executor, got "
                f"{executor_def!r}"
            )
        self.executor_def = executor_def  # None: the code location's executor
        if op_retry_policy is not None and not isinstance(op_retry_policy, RetryPolicy):
            raise DefinitionError(
                f"{where} op_retry_policy must be a RetryPolicy, got {op_retry_policy!r}"
            )
        self.op_retry_policy = op_retry_policy  # for steps that declare no retry policy
        # Parse now so a malformed selection string fails where the job is declared.
        self._asset_selection = _coerce_selection(selection)

    @property
    def run_tags(self) -> dict[str, str]:
        """Tags every run of this job gets: `run_tags` if given, else `tags`."""
        return dict(self._run_tags if self._run_tags is not None else self.tags)

    def resolve_keys(self, graph: AssetGraph) -> set[AssetKey]:
        """The asset keys this job materializes in `graph`.

        Raises SelectionError naming unknown assets, and DefinitionError when the selected
        assets do not share one partitions definition.
        """
        keys = set(self._asset_selection.resolve(graph))
        self._check_partitions(graph, keys)
        return keys

    def _check_partitions(self, graph: AssetGraph, keys: set[AssetKey]) -> None:
        # A list, not a dict: partitions definitions compare by value but need not hash.
        groups: list[tuple[PartitionsDefinition, list[AssetKey]]] = []
        for key in sorted(keys):
            partitions_def = graph.specs[key].partitions_def
            if partitions_def is None:
                continue
            for known, members in groups:
                if known == partitions_def:
                    members.append(key)
                    break
            else:
                groups.append((partitions_def, [key]))
        if len(groups) > 1:
            described = "; ".join(
                f"{', '.join(k.to_user_string() for k in members[:3])} use {known!r}"
                for known, members in groups
            )
            raise DefinitionError(
                f"Job '{self.name}' selects assets with different partitions definitions "
                f"({described}); a run materializes one partition, so split the job into one "
                f"per partitions definition"
            )
        if self.partitions_def is not None and groups and groups[0][0] != self.partitions_def:
            raise DefinitionError(
                f"Job '{self.name}' has partitions_def={self.partitions_def!r} but its assets "
                f"are partitioned by {groups[0][0]!r}; leave partitions_def out to use the "
                f"assets' own"
            )

    def bound_to(self, definitions: Definitions) -> JobDefinition:
        """This job resolved against `definitions`: what `Definitions.get_job_def` returns."""
        bound = copy.copy(self)
        bound._definitions = definitions
        return bound

    def execute_in_process(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
    ) -> ExecuteInProcessResult:
        """Materialize the job's assets in this process, with the Definitions' resources.

        `run_config` (a RunConfig or dict) replaces the job's own config; `resources` add
        to or replace the Definitions' ones.

        """
        from weir._execution.materialize import materialize

        definitions = self._definitions
        if definitions is None:
            raise DefinitionError(
                f"Job '{self.name}' selects assets, which only its Definitions know; run it "
                f"as defs.get_job_def('{self.name}').execute_in_process()"
            )
        keys = sorted(self.resolve_keys(definitions.get_asset_graph()))
        return materialize(
            [*definitions.assets, *definitions.asset_checks],
            selection=keys,
            resources={**definitions.resources, **(resources or {})},
            run_config=run_config if run_config is not None else self.config,
            partition_key=partition_key,
            raise_on_error=raise_on_error,
            tags={**self.run_tags, **(tags or {})},
            run_id=run_id,
            op_retry_policy=self.op_retry_policy,
        )

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}: {self.selection!r}>"


def define_asset_job(
    name: str,
    selection: Any = None,
    config: RunConfig | Mapping[str, Any] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: PartitionsDefinition | None = None,
    executor_def: ExecutorDefinition | None = None,
    op_retry_policy: RetryPolicy | None = None,
) -> JobDefinition:
    """Name a selection of assets so schedules, sensors and people can launch it as one run.

    `selection` takes what AssetSelection accepts: a selection string (``"group:sales"``,
    ``"*orders"``), asset keys, assets, or a list of those. Leave it out to select every
    asset. Unknown assets are reported when the job is passed to `Definitions`.
    `op_retry_policy` retries the steps of its runs whose assets declare no retry policy.

    >>> daily = define_asset_job("daily_refresh", selection="group:sales", tags={"team": "bi"})
    >>> daily.name
    'daily_refresh'
    """
    return JobDefinition(
        name,
        selection,
        config=config,
        description=description,
        tags=tags,
        run_tags=run_tags,
        metadata=metadata,
        partitions_def=partitions_def,
        executor_def=executor_def,
        op_retry_policy=op_retry_policy,
    )


def _coerce_selection(selection: Any) -> AssetSelection:
    if selection is None:
        return AssetSelection.all()
    return AssetSelection.from_coercible(selection)
