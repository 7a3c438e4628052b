"""`weir --help` and the client commands load no server modules: no SQLAlchemy, Alembic,
uvicorn or grpc (they cost seconds of CPU), and no protobuf either: the client commands speak
the API's JSON with the standard library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SERVER_MODULES = {"sqlalchemy", "alembic", "uvicorn", "starlette", "grpc"}

_CHILD = """
import json, sys
from weir_controlplane.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
sys.stdout = sys.__stdout__
print(json.dumps(sorted({{*sys.modules, *(name.split(".")[0] for name in sys.modules)}})))
"""


def _loaded(argv: list[str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv", [["--help"], ["dev", "--help"], ["runs", "--help"], ["runs", "launch", "--help"]]
)
def test_help_loads_no_server_module_and_no_protobuf(argv: list[str]) -> None:
    loaded = _loaded(argv)
    assert not loaded & SERVER_MODULES
    assert "google" not in loaded and "weir_protos" not in loaded


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "list"],
        ["runs", "show", "some-run"],
        ["assets", "list"],
        ["assets", "lineage", "orders"],
        ["assets", "lineage", "orders", "--upstream", "1"],
        ["runs", "launch", "--select", "orders", "--tag", "a=b", "--config", "{}"],
        ["runs", "cancel", "some-run"],
    ],
)
def test_client_commands_load_no_server_module_and_no_protobuf(argv: list[str]) -> None:
    # Nothing listens on port 9: the command fails to connect after importing what it uses.
    loaded = _loaded([*argv, "--url", "http://127.0.0.1:9"])
    assert "weir_controlplane.connect_client" in loaded  # the command did reach its call
    assert not loaded & SERVER_MODULES
    assert "google" not in loaded and "grpc" not in loaded and "weir_protos" not in loaded
