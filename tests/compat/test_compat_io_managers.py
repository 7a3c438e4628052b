"""I/O managers as Dagster's I/O manager guide writes and tests them: classes, factories,
@io_manager functions, the built-in ones, and contexts built for unit tests."""

import json
import logging
import os

import pytest
from compat_target import dg


class JsonFileIOManager(dg.ConfigurableIOManager):
    root: str

    def _path(self, context) -> str:
        return os.path.join(self.root, *context.asset_key.path) + ".json"

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        os.makedirs(os.path.dirname(self._path(context)), exist_ok=True)
        with open(self._path(context), "w") as f:
            json.dump(obj, f)

    def load_input(self, context: dg.InputContext):
        with open(self._path(context)) as f:
            return json.load(f)


@dg.asset
def raw_numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def doubled(raw_numbers: list[int]) -> list[int]:
    return [n * 2 for n in raw_numbers]


def test_an_io_manager_writes_to_the_path_it_derives_from_the_output_context(tmp_path):
    manager = JsonFileIOManager(root=str(tmp_path))
    context = dg.build_output_context(asset_key=dg.AssetKey(["sales", "orders"]))

    manager.handle_output(context, {"n": 1})

    assert json.loads((tmp_path / "sales" / "orders.json").read_text()) == {"n": 1}


def test_an_io_manager_loads_from_the_input_context_of_its_upstream(tmp_path):
    (tmp_path / "orders.json").write_text("[4, 5]")
    manager = JsonFileIOManager(root=str(tmp_path))

    upstream = dg.build_output_context(asset_key=dg.AssetKey("orders"), name="result")
    context = dg.build_input_context(asset_key=dg.AssetKey("orders"), upstream_output=upstream)

    assert manager.load_input(context) == [4, 5]
    assert context.upstream_output.asset_key == dg.AssetKey("orders")


def test_built_contexts_carry_step_key_partition_and_resources():
    output = dg.build_output_context(
        step_key="orders", name="result", partition_key="2024-01-01",
        asset_key="orders", resources={"bucket": "b1"},
    )  # fmt: skip
    assert (output.step_key, output.name, output.partition_key) == (
        "orders",
        "result",
        "2024-01-01",
    )
    assert output.has_partition_key
    assert output.resources.bucket == "b1"

    without_asset = dg.build_output_context(step_key="op_step", name="result")
    assert not without_asset.has_asset_key
    assert without_asset.step_key == "op_step"

    loaded = dg.build_input_context(
        asset_key="orders", partition_key="2024-01-02", resources={"bucket": "b2"}
    )
    assert (loaded.asset_key, loaded.partition_key) == (dg.AssetKey("orders"), "2024-01-02")
    assert loaded.resources.bucket == "b2"


def test_materialized_values_go_through_the_bound_io_manager(tmp_path):
    result = dg.materialize(
        [raw_numbers, doubled], resources={"io_manager": JsonFileIOManager(root=str(tmp_path))}
    )

    assert result.success
    assert json.loads((tmp_path / "doubled.json").read_text()) == [2, 4, 6]


class TableStore(dg.IOManager):
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.tables: dict = {}

    def handle_output(self, context, obj) -> None:
        self.tables[self.prefix + context.asset_key.to_user_string()] = obj

    def load_input(self, context):
        return self.tables[self.prefix + context.asset_key.to_user_string()]


STORES: list[TableStore] = []


class TableStoreFactory(dg.ConfigurableIOManagerFactory):
    prefix: str

    def create_io_manager(self, context) -> TableStore:
        STORES.append(TableStore(self.prefix))
        return STORES[-1]


def test_an_io_manager_factory_builds_the_io_manager_a_run_uses():
    STORES.clear()
    result = dg.materialize(
        [raw_numbers, doubled], resources={"io_manager": TableStoreFactory(prefix="db.")}
    )

    assert result.output_for_node("doubled") == [2, 4, 6]
    assert STORES[-1].tables == {"db.raw_numbers": [1, 2, 3], "db.doubled": [2, 4, 6]}


@dg.io_manager(config_schema={"prefix": str})
def table_store(init_context):
    STORES.append(TableStore(init_context.resource_config["prefix"]))
    return STORES[-1]


def test_an_io_manager_function_is_called_directly_with_an_init_context():
    manager = table_store(dg.build_init_resource_context(config={"prefix": "unit."}))

    manager.handle_output(dg.build_output_context(asset_key="orders"), [1])
    assert manager.tables == {"unit.orders": [1]}


def test_an_io_manager_factory_gets_an_init_context_with_its_config():
    seen = []

    class Recording(dg.ConfigurableIOManagerFactory):
        prefix: str = "p."

        def create_io_manager(self, context) -> TableStore:
            seen.append(context.resource_config["prefix"])
            return TableStore(self.prefix)

    dg.materialize([raw_numbers], resources={"io_manager": Recording()})
    assert seen == ["p."]


def test_an_io_manager_function_gets_its_config_from_configured():
    STORES.clear()
    result = dg.materialize(
        [raw_numbers, doubled], resources={"io_manager": table_store.configured({"prefix": "x."})}
    )

    assert result.success
    assert set(STORES[-1].tables) == {"x.raw_numbers", "x.doubled"}


def test_an_io_manager_function_gets_its_config_from_the_run_config():
    STORES.clear()
    defs = dg.Definitions(assets=[raw_numbers, doubled], resources={"io_manager": table_store})

    defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config={"resources": {"io_manager": {"config": {"prefix": "run."}}}}
    )

    assert set(STORES[-1].tables) == {"run.raw_numbers", "run.doubled"}


def test_an_io_manager_definition_wraps_a_function():
    STORES.clear()
    definition = dg.IOManagerDefinition(lambda init_context: TableStore("def."))

    result = dg.materialize([raw_numbers, doubled], resources={"io_manager": definition})
    assert result.output_for_node("doubled") == [2, 4, 6]


def test_the_filesystem_io_manager_keeps_values_between_runs(tmp_path):
    fs = dg.fs_io_manager.configured({"base_dir": str(tmp_path)})

    dg.materialize([raw_numbers], resources={"io_manager": fs})
    result = dg.materialize(
        [raw_numbers, doubled], selection=[doubled], resources={"io_manager": fs}
    )

    assert result.output_for_node("doubled") == [2, 4, 6]
    assert any(tmp_path.iterdir())


def test_the_in_memory_io_manager_keeps_values_for_one_run():
    result = dg.materialize([raw_numbers, doubled], resources={"io_manager": dg.mem_io_manager})
    assert result.output_for_node("doubled") == [2, 4, 6]

    with pytest.raises(KeyError, match="raw_numbers"):
        dg.materialize(
            [raw_numbers, doubled], selection=[doubled], resources={"io_manager": dg.mem_io_manager}
        )


def test_an_asset_names_its_io_manager_by_key(tmp_path):
    @dg.asset(io_manager_key="json_io")
    def settings() -> dict:
        return {"debug": True}

    defs = dg.Definitions(
        assets=[settings], resources={"json_io": JsonFileIOManager(root=str(tmp_path))}
    )
    defs.resolve_implicit_global_asset_job_def().execute_in_process()

    assert defs.load_asset_value("settings") == {"debug": True}
    assert (tmp_path / "settings.json").exists()


class OutputNameRecorder(dg.IOManager):
    """Stores values by output name and remembers which name each input asked for."""

    def __init__(self):
        self.values: dict[str, object] = {}
        self.loaded_names: list[str] = []

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        self.values[context.name] = obj

    def load_input(self, context: dg.InputContext):
        self.loaded_names.append(context.upstream_output.name)
        return self.values[context.upstream_output.name]


def test_an_input_from_a_multi_asset_names_the_output_it_reads():
    @dg.multi_asset(outs={"customers": dg.AssetOut(), "orders": dg.AssetOut()})
    def crm_export():
        return ["ada"], [10, 20]

    @dg.asset
    def order_total(orders: list[int]) -> int:
        return sum(orders)

    recorder = OutputNameRecorder()
    result = dg.materialize([crm_export, order_total], resources={"io_manager": recorder})

    assert result.success
    assert recorder.loaded_names == ["orders"]
    assert result.output_for_node("order_total") == 30


def test_an_init_resource_context_has_a_logger():
    seen = []

    @dg.io_manager
    def logging_store(init_context):
        seen.append(init_context.log)
        init_context.log.info("building the table store")
        return TableStore("")

    logging_store(dg.build_init_resource_context())
    dg.materialize([raw_numbers], resources={"io_manager": logging_store})
    assert len(seen) == 2
    assert all(isinstance(log, logging.Logger) for log in seen)


def test_a_resource_set_up_for_a_run_can_log_from_its_init_context():
    class Warehouse(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            context.log.info("connecting to the warehouse")

    @dg.asset
    def counted(warehouse: Warehouse) -> int:
        return 1

    assert dg.materialize([counted], resources={"warehouse": Warehouse()}).success
