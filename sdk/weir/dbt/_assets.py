"""`@dbt_assets`: one multi-asset for the selected models, seeds and snapshots of a dbt
project, with its tests as asset checks. The run selects which of them `dbt build` runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from weir._assets import AssetsDefinition, multi_asset
from weir._errors import DefinitionError
from weir._specs import AssetSpec
from weir.dbt._cli import register_manifest
from weir.dbt._manifest import DbtManifest


def dbt_assets(
    *,
    manifest: str | Path | Mapping[str, Any] | DbtManifest,
    select: str = "fqn:*",
    exclude: str = "",
    name: str | None = None,
    group_name: str | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Assets for a dbt project's nodes, computed by the decorated function.

    Example::

        project = DbtProject("analytics")

        @dbt_assets(manifest=project.manifest_path)
        def analytics(context: AssetExecutionContext, dbt: DbtCliResource):
            yield from dbt.cli(["build"], context=context).stream()

        defs = Definitions(
            assets=[analytics],
            resources={"dbt": DbtCliResource(project_dir=str(project.project_dir))},
        )

    `select` and `exclude` take dbt-style terms: `fqn:*`, `tag:NAME`,
    `resource_type:TYPE`, `fqn:a.b.c` or a node name, space-separated.
    """
    parsed = manifest if isinstance(manifest, DbtManifest) else DbtManifest.read(manifest)
    nodes = parsed.select(select, exclude)
    if not nodes:
        raise DefinitionError(
            f"@dbt_assets: select={select!r} exclude={exclude!r} picks no model, seed or "
            f"snapshot of {parsed.path}"
        )
    keys = {node.spec.key for node in nodes}
    specs = [
        node.spec.replace(group_name=node.spec.group_name or group_name)
        if group_name
        else node.spec
        for node in nodes
    ]
    checks = [test.spec for test in parsed.tests.values() if test.asset_key in keys]

    def build(func: Callable[..., Any]) -> AssetsDefinition:
        definition = multi_asset(
            specs=specs, name=name or func.__name__, can_subset=True, check_specs=checks
        )(func)
        register_manifest(definition.node_name, parsed)
        return definition

    return build


def dbt_source_specs(manifest: str | Path | Mapping[str, Any] | DbtManifest) -> list[AssetSpec]:
    """External assets for the dbt sources the project reads (keyed `[source, table]`),
    for `Definitions(assets=[...])` when nothing else in the code location produces them.
    """
    parsed = manifest if isinstance(manifest, DbtManifest) else DbtManifest.read(manifest)
    return [AssetSpec(key, kinds={"dbt"}) for key in sorted(parsed.source_keys())]
