"""A code location made of a dbt project (tests/sdk/dbt_project, copied by the test to
$E2E_DBT_PROJECT with its manifest parsed); dbt is $E2E_DBT."""

import os

import weir as dg
from weir.dbt import DbtCliResource, DbtProject, dbt_assets, dbt_source_specs

project = DbtProject(os.environ["E2E_DBT_PROJECT"], profiles_dir=os.environ["E2E_DBT_PROJECT"])


@dbt_assets(manifest=project.manifest_path)
def weir_shop(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[weir_shop, *dbt_source_specs(project.manifest_path)],
    resources={
        "dbt": DbtCliResource(
            project_dir=str(project.project_dir),
            profiles_dir=str(project.project_dir),
            dbt_executable=os.environ["E2E_DBT"],
        )
    },
)
