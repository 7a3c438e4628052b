"""A served run applies the resource config its run config carries, as in-process runs do."""

from __future__ import annotations

import pytest
import weir as dg
from codeserver_harness import execute_request
from google.protobuf import struct_pb2
from weir_codeserver.run_plan import RunRequestError, prepare_run


class Warehouse(dg.ConfigurableResource):
    schema_name: str = "public"


@dg.asset
def orders(warehouse: Warehouse) -> str:
    return f"{warehouse.schema_name}.orders"


DEFS = dg.Definitions(assets=[orders], resources={"warehouse": Warehouse()})
BOUND = {**DEFS.resources, "io_manager": dg.InMemoryIOManager()}


def _request(run_config: dict) -> object:
    struct = struct_pb2.Struct()
    struct.update(run_config)
    return execute_request("127.0.0.1:1", "orders", run_config=struct)


def test_resource_config_in_the_run_config_reconfigures_the_bound_resource():
    request = _request({"resources": {"warehouse": {"config": {"schema_name": "staging"}}}})

    prepared = prepare_run(DEFS, BOUND, request)

    assert prepared.resources["warehouse"] == Warehouse(schema_name="staging")
    assert DEFS.resources["warehouse"] == Warehouse()  # the location's own binding is kept


def test_config_for_an_unbound_resource_is_refused_with_the_bound_keys():
    request = _request({"resources": {"lake": {"config": {"path": "/x"}}}})

    with pytest.raises(
        RunRequestError, match=r"resource 'lake'.*bound resources: io_manager, warehouse"
    ):
        prepare_run(DEFS, BOUND, request)


def test_a_resource_field_of_the_wrong_type_is_refused():
    request = _request({"resources": {"warehouse": {"config": {"schema_name": ["a"]}}}})

    with pytest.raises(RunRequestError, match="Config for resource 'warehouse' is invalid"):
        prepare_run(DEFS, BOUND, request)


class Lake(dg.ConfigurableResource):
    bucket: str
    region: str = "eu"


@dg.asset
def files(lake: Lake) -> str:
    return f"{lake.region}/{lake.bucket}"


LAUNCHED = dg.Definitions(assets=[files], resources={"lake": Lake.configure_at_launch()})
LAUNCHED_BOUND = {**LAUNCHED.resources, "io_manager": dg.InMemoryIOManager()}


def test_a_resource_configured_at_launch_is_built_from_the_run_config():
    request = _request({"resources": {"lake": {"config": {"bucket": "raw"}}}})
    request.asset_keys[0].path[:] = ["files"]

    prepared = prepare_run(LAUNCHED, LAUNCHED_BOUND, request)

    assert prepared.resources["lake"] == Lake(bucket="raw")


def test_a_run_leaving_out_a_field_configured_at_launch_is_refused():
    request = _request({})
    request.asset_keys[0].path[:] = ["files"]

    with pytest.raises(RunRequestError, match=r"Config for resource 'lake' is invalid.*bucket"):
        prepare_run(LAUNCHED, LAUNCHED_BOUND, request)
