"""What loading the code server pulls in: no control plane ever, and no grpc before the
zygote is forked (a process that has made gRPC objects cannot fork workers safely)."""

from __future__ import annotations

import json
import subprocess
import sys

from codeserver_harness import CODE

_PROBE = """
import json, sys
from weir_codeserver.loader import CodeTarget
from weir_codeserver.location import LoadedLocation
import weir_codeserver.server, weir_codeserver.supervisor, weir_codeserver.zygote
location = LoadedLocation.load(CodeTarget(python_file=sys.argv[1]))
assert location.load_error is None, location.load_error.message
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_loading(location: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(CODE / location)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_loading_and_converting_definitions_imports_no_grpc_and_no_control_plane():
    modules = _modules_after_loading("everything.py")
    assert not [m for m in modules if m == "grpc" or m.startswith("grpc.")]
    assert not [m for m in modules if m.startswith("weir_controlplane")]


def test_a_location_without_config_or_resource_classes_loads_without_pydantic():
    # Its runs store values with FilesystemIOManager's storage, without the pydantic model:
    # importing pydantic would add a fifth to a large location's start-up.
    modules = _modules_after_loading("pipeline.py")
    assert not [m for m in modules if m == "pydantic" or m.startswith("pydantic.")]
    assert "weir._fs_io" not in modules
