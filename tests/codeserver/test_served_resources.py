"""A served code location uses resources as in-process runs do: a @definitions function,
plain-typed ResourceParam resources, nested resources reading EnvVars in the run worker, and
an @io_manager built from its config."""

from __future__ import annotations

import json

from codeserver_harness import event_types, execute_request
from weir_protos.v1 import code_location_pb2

LOCATION = """
import json
import os

import weir as dg


class Credentials(dg.ConfigurableResource):
    token: str


class ApiClient(dg.ConfigurableResource):
    base_url: str
    credentials: Credentials

    def fetch(self, what: str) -> str:
        return f"{self.base_url}/{what}?token={self.credentials.token}"


class JsonStore(dg.IOManager):
    def __init__(self, root: str):
        self.root = root

    def _path(self, key: dg.AssetKey) -> str:
        return os.path.join(self.root, key.to_user_string() + ".json")

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        os.makedirs(self.root, exist_ok=True)
        with open(self._path(context.asset_key), "w") as f:
            json.dump(obj, f)

    def load_input(self, context: dg.InputContext):
        with open(self._path(context.asset_key)) as f:
            return json.load(f)


@dg.io_manager(config_schema={"root": str})
def json_store(init_context):
    return JsonStore(init_context.resource_config["root"])


@dg.asset
def endpoint(client: ApiClient, region: dg.ResourceParam[str]) -> str:
    return client.fetch(region)


@dg.asset
def shouted(endpoint: str) -> str:
    return endpoint.upper()


@dg.definitions
def defs():
    return dg.Definitions(
        assets=[endpoint, shouted],
        resources={
            "client": ApiClient(
                base_url="https://api", credentials=Credentials(token=dg.EnvVar("SERVED_TOKEN"))
            ),
            "region": "eu",
            "io_manager": json_store.configured({"root": os.environ["SERVED_STORE_ROOT"]}),
        },
    )
"""


def test_a_served_location_runs_with_nested_resources_params_and_an_io_manager_function(
    start_codeserver, collector, tmp_path, monkeypatch
):
    events, reporting = collector
    store = tmp_path / "store"
    monkeypatch.setenv("SERVED_STORE_ROOT", str(store))
    monkeypatch.setenv("SERVED_TOKEN", "t0k3n")
    path = tmp_path / "served_resources.py"
    path.write_text(LOCATION)
    server = start_codeserver(path)

    snapshot = server.stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest())
    listed = {tuple(a.key.path) for a in snapshot.definitions.assets}
    assert listed == {("endpoint",), ("shouted",)}  # `region` is a resource, not an upstream
    io_managers = {r.key for r in snapshot.definitions.resources if r.is_io_manager}
    assert io_managers == {"io_manager"}

    request = execute_request(reporting.address, "endpoint", "shouted")
    server.stub.ExecuteRun(request)
    run = events.wait_for_end(request.run_id)

    assert event_types(run)[-1] == "RUN_SUCCESS"
    assert json.loads((store / "endpoint.json").read_text()) == "https://api/eu?token=t0k3n"
    assert json.loads((store / "shouted.json").read_text()) == "HTTPS://API/EU?TOKEN=T0K3N"


def test_an_env_var_missing_where_the_run_executes_fails_the_run_naming_it(
    start_codeserver, collector, tmp_path, monkeypatch
):
    events, reporting = collector
    monkeypatch.setenv("SERVED_STORE_ROOT", str(tmp_path / "store"))
    monkeypatch.delenv("SERVED_TOKEN", raising=False)
    path = tmp_path / "served_resources.py"
    path.write_text(LOCATION)
    server = start_codeserver(path)  # loading the code does not read the variable

    request = execute_request(reporting.address, "endpoint")
    server.stub.ExecuteRun(request)
    run = events.wait_for_end(request.run_id)

    assert event_types(run)[-1] == "RUN_FAILURE"
    assert any("SERVED_TOKEN" in str(e) for e in run)


BY_OUTPUT_NAME = """
import json
import os

import weir as dg


class ByOutputName(dg.IOManager):
    # Files named after the output, not the asset: an input finds its file only through
    # the name of the upstream output it reads.
    def handle_output(self, context: dg.OutputContext, obj) -> None:
        with open(os.path.join(os.environ["SERVED_STORE_ROOT"], context.name), "w") as f:
            json.dump(obj, f)

    def load_input(self, context: dg.InputContext):
        with open(os.path.join(os.environ["SERVED_STORE_ROOT"], context.upstream_output.name)) as f:
            return json.load(f)


@dg.multi_asset(outs={"customers": dg.AssetOut(), "orders": dg.AssetOut()})
def crm_export():
    return ["ada"], [10, 20]


@dg.asset
def order_total(orders: list[int]) -> int:
    return sum(orders)


defs = dg.Definitions(assets=[crm_export, order_total], resources={"io_manager": ByOutputName()})
"""


def test_a_served_run_loads_a_multi_asset_output_by_its_output_name(
    start_codeserver, collector, tmp_path, monkeypatch
):
    events, reporting = collector
    monkeypatch.setenv("SERVED_STORE_ROOT", str(tmp_path))
    path = tmp_path / "by_output_name.py"
    path.write_text(BY_OUTPUT_NAME)
    server = start_codeserver(path)

    request = execute_request(reporting.address, "customers", "orders", "order_total")
    server.stub.ExecuteRun(request)
    run = events.wait_for_end(request.run_id)

    assert event_types(run)[-1] == "RUN_SUCCESS"
    assert json.loads((tmp_path / "orders").read_text()) == [10, 20]
    assert json.loads((tmp_path / "result").read_text()) == 30  # a single asset's output
