"""weir.dbt: a dbt project's models, seeds and snapshots as assets, its tests as checks.

Install with the extra, ``pip install 'weir[dbt]'``, and a dbt with its adapter
(``dbt-core``, ``dbt-duckdb``...) wherever suits: dbt runs as a child process, so it may
live in an environment of its own (``DbtCliResource(dbt_executable=...)``). The names
mirror dagster-dbt's, so ``from dagster_dbt import ...`` becomes ``from weir.dbt import ...``::

    from weir import AssetExecutionContext, Definitions
    from weir.dbt import DbtCliResource, DbtProject, dbt_assets, dbt_source_specs

    project = DbtProject("analytics")

    @dbt_assets(manifest=project.manifest_path)
    def analytics(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    defs = Definitions(
        assets=[analytics, *dbt_source_specs(project.manifest_path)],
        resources={"dbt": DbtCliResource(project_dir=str(project.project_dir))},
    )
"""

from weir._errors import DbtCliError, DbtManifestError
from weir.dbt._assets import dbt_assets, dbt_source_specs
from weir.dbt._cli import DbtCliInvocation, DbtCliResource
from weir.dbt._manifest import DbtManifest
from weir.dbt._project import DbtProject

__all__ = [
    "DbtCliError",
    "DbtCliInvocation",
    "DbtCliResource",
    "DbtManifest",
    "DbtManifestError",
    "DbtProject",
    "dbt_assets",
    "dbt_source_specs",
]
