"""User code that fails to load is served as a load error, never a crash loop."""

from __future__ import annotations

import grpc
import pytest
from codeserver_harness import execute_request
from grpc_health.v1 import health_pb2, health_pb2_grpc
from weir_protos.v1 import code_location_pb2

BROKEN = {
    "syntax_error": ("def orders(:\n    return 1\n", "SyntaxError"),
    "missing_upstream": (
        "import weir as dg\n\n"
        "@dg.asset\n"
        "def revenue(orders):\n"
        "    return orders\n\n"
        "defs = dg.Definitions(assets=[revenue])\n",
        "MissingUpstreamError",
    ),
    "raises_at_import": ("raise RuntimeError('warehouse password not set')\n", "RuntimeError"),
    "no_definitions": ("x = 1\n", "defines no weir.Definitions"),
    "definitions_function_raises": (
        "import weir as dg\n\n"
        "@dg.definitions\n"
        "def defs():\n"
        "    raise ValueError('no warehouse configured')\n",
        "@definitions function raised ValueError: no warehouse configured",
    ),
    "op_job": (
        "import weir as dg\n\n"
        "@dg.op\n"
        "def hello():\n"
        "    return 1\n\n"
        "@dg.job\n"
        "def hello_job():\n"
        "    hello()\n\n"
        "defs = dg.Definitions(jobs=[hello_job])\n",
        "defines op jobs (hello_job); a code location serves asset jobs only",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_load_error_is_reported_by_a_server_that_keeps_serving(start_codeserver, tmp_path, case):
    source, expected = BROKEN[case]
    path = tmp_path / f"{case}.py"
    path.write_text(source)

    server = start_codeserver(path)

    health = health_pb2_grpc.HealthStub(server.channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    info = server.stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())
    assert expected in info.load_error.message
    assert info.content_hash == ""
    definitions = server.stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest())
    assert definitions.load_error == info.load_error
    (part,) = server.stub.StreamDefinitions(code_location_pb2.StreamDefinitionsRequest())
    assert part.load_error == info.load_error
    with pytest.raises(grpc.RpcError) as run:
        server.stub.ExecuteRun(execute_request("127.0.0.1:1", "orders"))
    assert run.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert server.process.poll() is None


def test_load_error_points_at_the_users_line(start_codeserver, tmp_path):
    path = tmp_path / "defs.py"
    path.write_text("import weir as dg\n\n\ndef broken():\n    return 1 / 0\n\n\nbroken()\n")

    info = start_codeserver(path).stub.GetLocationInfo(code_location_pb2.GetLocationInfoRequest())

    assert info.load_error.class_name == "ZeroDivisionError"
    assert "division by zero" in info.load_error.message
    assert f'"{path}", line 5' in info.load_error.stack
    assert "importlib" not in info.load_error.stack


@pytest.mark.parametrize("case", ["loads", "raises_at_import", "definitions_function_raises"])
def test_loading_turns_the_garbage_collector_back_on(tmp_path, case):
    # The loader pauses cyclic collection while the user's code builds its definitions;
    # left off, every cycle made later by the server and its runs would stay in memory.
    import gc

    from weir_codeserver.loader import CodeTarget, LoadError, load_definitions

    source = (
        "import weir as dg\n\n@dg.asset\ndef orders():\n    return 1\n\n"
        "defs = dg.Definitions(assets=[orders])\n"
        if case == "loads"
        else BROKEN[case][0]
    )
    path = tmp_path / f"{case}.py"
    path.write_text(source)
    assert gc.isenabled()
    try:
        load_definitions(CodeTarget(python_file=str(path)))
    except LoadError:
        assert case != "loads"
    assert gc.isenabled()
