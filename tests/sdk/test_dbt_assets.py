"""weir.dbt with a real dbt: the small project in dbt_project/ is parsed and built by
dbt-core with the DuckDB adapter (pinned in tests/dbt_env/uv.lock, installed by
`make install` at tests/dbt_env/.venv), its manifest turned into assets and checks."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import weir as dg
from weir.dbt import (
    DbtCliError,
    DbtCliResource,
    DbtManifestError,
    DbtProject,
    dbt_assets,
    dbt_source_specs,
)

HERE = Path(__file__).parent
DBT = HERE.parent / "dbt_env" / ".venv" / "bin" / "dbt"
pytestmark = pytest.mark.timeout(600)  # each dbt command starts a fresh dbt (seconds)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    """A copy of dbt_project/ with its manifest parsed, on a DuckDB file of its own."""
    if not DBT.is_file():
        pytest.fail(f"{DBT} is missing: `make install` builds the dbt environment")
    root = tmp_path_factory.mktemp("dbt") / "weir_shop"
    shutil.copytree(HERE / "dbt_project", root)
    saved = os.environ.get("WEIR_DBT_DUCKDB_PATH")
    os.environ["WEIR_DBT_DUCKDB_PATH"] = str(root / "shop.duckdb")
    prepared = DbtProject(root, profiles_dir=root)
    prepared.prepare(dbt_executable=str(DBT))
    yield prepared
    if saved is None:
        os.environ.pop("WEIR_DBT_DUCKDB_PATH", None)
    else:
        os.environ["WEIR_DBT_DUCKDB_PATH"] = saved


def shop_assets(project: DbtProject, **options: Any) -> dg.AssetsDefinition:
    @dbt_assets(manifest=project.manifest_path, **options)
    def weir_shop(context: dg.AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
        yield from dbt.cli(["build"], context=context).stream()

    return weir_shop


def resources(project: DbtProject) -> dict[str, Any]:
    # A DbtProject as project_dir brings its profiles_dir along, as in dagster-dbt.
    return {"dbt": DbtCliResource(project_dir=project, dbt_executable=str(DBT))}


KEYS = {"raw_orders", "stg_orders", "orders", "revenue", "orders_snapshot"}


def test_the_manifest_becomes_assets_with_deps_tags_owners_and_checks(
    project: DbtProject,
) -> None:
    assets = shop_assets(project)
    specs = {spec.key.to_user_string(): spec for spec in assets.specs}
    assert set(specs) == KEYS
    orders = specs["orders"]
    assert {key.to_user_string() for key in orders.dep_keys} == {
        "stg_orders",
        "payments_app/raw_payments",
    }
    assert {k.to_user_string() for k in specs["stg_orders"].dep_keys} == {"raw_orders"}
    assert {k.to_user_string() for k in specs["orders_snapshot"].dep_keys} == {"stg_orders"}
    assert dict(orders.tags) == {"daily": "", "core": ""}
    assert orders.group_name == "finance"
    assert orders.owners == ("finance@example.com", "team:finance")
    assert orders.kinds == {"dbt", "duckdb"}
    assert orders.metadata["dbt/meta"].value == {"tier": "gold"}
    assert orders.metadata["dbt/unique_id"].value == "model.weir_shop.orders"
    assert orders.description == "Orders with their payment."
    checks = {(c.asset_key.to_user_string(), c.name) for c in assets.check_specs}
    assert checks == {
        ("stg_orders", "unique_stg_orders_order_id"),
        ("stg_orders", "not_null_stg_orders_order_id"),
        ("orders", "unique_orders_order_id"),
        ("orders", "orders_amount_at_least_minimum"),
        ("orders", "orders_few_cheap"),
    }
    sources = dbt_source_specs(project.manifest_path)
    assert [s.key.to_user_string() for s in sources] == ["payments_app/raw_payments"]
    defs = dg.Definitions(assets=[assets, *sources], resources=resources(project))
    assert defs is not None


def test_select_and_exclude_pick_the_nodes(project: DbtProject) -> None:
    daily = shop_assets(project, select="tag:daily")
    assert [s.key.to_user_string() for s in daily.specs] == ["orders"]
    models = shop_assets(project, select="resource_type:model", exclude="revenue")
    assert {s.key.to_user_string() for s in models.specs} == {"stg_orders", "orders"}
    with pytest.raises(dg.DefinitionError, match="picks no model"):
        shop_assets(project, select="tag:nothing")


def test_dbt_build_materializes_every_node_and_reports_its_tests(project: DbtProject) -> None:
    assets = shop_assets(project)
    result = dg.materialize(
        [assets, *dbt_source_specs(project.manifest_path)], resources=resources(project)
    )
    assert result.success
    built = {
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert built == KEYS
    orders = next(
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "orders"
    )
    assert orders.metadata["dbt/status"].value == "success"
    assert orders.metadata["dbt/execution_time"].value >= 0
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {
        "unique_stg_orders_order_id",
        "not_null_stg_orders_order_id",
        "unique_orders_order_id",
        "orders_amount_at_least_minimum",
        "orders_few_cheap",
    }
    assert checks["unique_orders_order_id"].passed
    warned = checks["orders_few_cheap"]  # severity warn: fails as a warning, build goes on
    assert not warned.passed and warned.severity is dg.AssetCheckSeverity.WARN
    assert warned.metadata["dbt/failures"].value == 1


def test_a_failing_test_fails_the_run_but_keeps_what_dbt_built(
    project: DbtProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEIR_DBT_MIN_AMOUNT", "20")  # two orders pay less
    result = dg.materialize(
        [shop_assets(project), *dbt_source_specs(project.manifest_path)],
        resources=resources(project),
        raise_on_error=False,
    )
    assert not result.success
    built = {
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert "orders" in built and "stg_orders" in built
    assert "revenue" not in built  # dbt skips what is downstream of a failing test
    failed = next(
        c for c in result.get_asset_check_evaluations()
        if c.check_name == "orders_amount_at_least_minimum"
    )  # fmt: skip
    assert not failed.passed and failed.severity is dg.AssetCheckSeverity.ERROR
    (failure,) = result.get_step_failure_events()
    assert "test.weir_shop.orders_amount_at_least_minimum (fail" in failure.message


def test_a_run_of_some_assets_builds_only_those(project: DbtProject) -> None:
    result = dg.materialize(
        [shop_assets(project), *dbt_source_specs(project.manifest_path)],
        selection="stg_orders",
        resources=resources(project),
    )
    built = [
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    ]
    assert built == ["stg_orders"]
    assert {c.check_name for c in result.get_asset_check_evaluations()} == {
        "unique_stg_orders_order_id",
        "not_null_stg_orders_order_id",
    }


# --- malformed manifests ----------------------------------------------------------------


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_a_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DbtManifestError, match=r"manifest.json: file does not exist.*dbt parse"):
        dbt_assets(manifest=tmp_path / "manifest.json")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", r"file is not JSON \(Expecting property name"),
        ([], "the document must be a JSON object, not list"),
        ({"metadata": {}}, "nodes is missing"),
        ({"nodes": {"model.p.a": {"resource_type": "model"}}}, r"nodes.model.p.a.name is missing"),
        (
            {"nodes": {"model.p.a": {"resource_type": "model", "name": 3}}},
            r"nodes.model.p.a.name must be a non-empty string",
        ),
        (
            {"nodes": {"model.p.a": {"resource_type": "model", "name": "a", "tags": "x"}}},
            r"nodes.model.p.a.tags must be a list of strings",
        ),
        (
            {
                "nodes": {
                    "model.p.a": {
                        "resource_type": "model",
                        "name": "a",
                        "depends_on": {"nodes": [1]},
                    }
                }
            },
            r"nodes.model.p.a.depends_on.nodes must be a list of strings",
        ),
        ({"nodes": {}, "sources": {"source.p.s.t": {"name": "t"}}}, "source_name is missing"),
    ],
)
def test_a_malformed_manifest_names_the_file_and_field(
    tmp_path: Path, document: Any, expected: str
) -> None:
    path = write(tmp_path, document)
    with pytest.raises(DbtManifestError, match=expected) as caught:
        dbt_assets(manifest=path)
    assert str(path) in str(caught.value)


def test_a_project_as_project_dir_brings_its_profiles(project: DbtProject) -> None:
    dbt = DbtCliResource(project_dir=project)
    assert dbt.project_dir == str(project.project_dir)
    assert dbt.profiles_dir == str(project.profiles_dir)


def test_a_missing_dbt_is_a_clear_error(project: DbtProject) -> None:
    missing = DbtCliResource(project_dir=str(project.project_dir), dbt_executable="no-such-dbt")
    with pytest.raises(DbtCliError, match="no 'no-such-dbt' on PATH"):
        missing.executable()
