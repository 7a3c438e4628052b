"""I/O managers: in-memory, filesystem, and user-defined ones."""

import json

import pytest
import weir as dg


@dg.asset
def config_values():
    return {"a": 1}


@dg.asset
def model(config_values):
    return {1, 2, config_values["a"]}  # a set is not JSON: stored with cloudpickle


def test_filesystem_io_manager_round_trips_json_and_pickles(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    result = dg.materialize([config_values, model], resources={"io_manager": io})
    assert json.loads((tmp_path / "config_values.json").read_text()) == {"a": 1}
    assert (tmp_path / "model.pkl").exists()
    path = result.get_asset_materialization_events()[1].materialization.metadata["path"]
    assert path.value == str(tmp_path / "model.pkl")
    again = dg.materialize([config_values, model], selection=[model], resources={"io_manager": io})
    assert again.asset_value("model") == {1, 2}


def test_filesystem_io_manager_partitions_and_missing_values(tmp_path):
    parts = dg.StaticPartitionsDefinition(["p1"])

    @dg.asset(partitions_def=parts)
    def chunk(context):
        return context.partition_key

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    dg.materialize([chunk], partition_key="p1", resources={"io_manager": io})
    assert json.loads((tmp_path / "chunk" / "p1.json").read_text()) == "p1"

    @dg.asset
    def reader(config_values):
        return config_values

    with pytest.raises(dg.WeirError, match="No stored value for asset 'config_values'"):
        dg.materialize([config_values, reader], selection=[reader], resources={"io_manager": io})


def test_custom_io_manager_sees_contexts():
    class Recording(dg.ConfigurableIOManager):
        prefix: str

        def handle_output(self, context, obj):
            STORE[(self.prefix, context.asset_key.to_user_string(), context.partition_key)] = obj
            context.add_output_metadata({"stored_as": self.prefix})

        def load_input(self, context):
            assert context.upstream_output is None or context.upstream_output.asset_key
            return STORE[(self.prefix, context.asset_key.to_user_string(), context.partition_key)]

    STORE: dict = {}
    io = Recording(prefix="mem")
    result = dg.materialize([config_values, model], resources={"io_manager": io})
    assert STORE[("mem", "config_values", None)] == {"a": 1}
    event = result.get_asset_materialization_events()[0]
    assert event.materialization.metadata["stored_as"].value == "mem"


def test_io_manager_key_routes_outputs():
    lake = dg.InMemoryIOManager()

    @dg.asset(io_manager_key="lake")
    def in_lake():
        return 5

    @dg.asset
    def reads_lake(in_lake):
        return in_lake + 1

    result = dg.materialize([in_lake, reads_lake], resources={"lake": lake})
    assert lake.values == {("in_lake",): 5}
    assert result.asset_value("reads_lake") == 6
