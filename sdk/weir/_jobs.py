"""Asset jobs: a named asset selection that schedules, sensors and people launch as one run.

A job holds its selection unresolved; `Definitions` resolves it against the asset graph, so
one job object can serve several code locations and an unknown asset is reported there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir._automation.run_request import str_mapping
from weir._errors import DefinitionError
from weir._executors import ExecutorDefinition
from weir._selection import AssetSelection
from weir._specs import validate_name

if TYPE_CHECKING:
    from weir._graph import AssetGraph
    from weir._key import AssetKey
    from weir._partitions import PartitionsDefinition


class JobDefinition:
    """A named selection of assets, with the tags and config its runs get.

    Made by `define_asset_job`. `selection` is kept as given (a selection string, keys,
    assets or an AssetSelection; None means ``AssetSelection.all()``).
    """

    def __init__(
        self,
        name: str,
        selection: Any = None,
        *,
        config: Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: PartitionsDefinition | None = None,
        executor_def: ExecutorDefinition | None = None,
    ):
        self.name = validate_name(name, "Job name")
        where = f"Job '{name}'"
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

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}: {self.selection!r}>"


def define_asset_job(
    name: str,
    selection: Any = None,
    config: Mapping[str, Any] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: PartitionsDefinition | None = None,
    executor_def: ExecutorDefinition | None = None,
) -> JobDefinition:
    """Name a selection of assets so schedules, sensors and people can launch it as one run.

    `selection` takes what AssetSelection accepts: a selection string (``"group:sales"``,
    ``"*orders"``), asset keys, assets, or a list of those. Leave it out to select every
    asset. Unknown assets are reported when the job is passed to `Definitions`.

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
    )


def _coerce_selection(selection: Any) -> AssetSelection:
    if selection is None:
        return AssetSelection.all()
    return AssetSelection.from_coercible(selection)
