"""The packages' import boundaries: the SDK never loads the servers, grpc, protobuf or
SQLAlchemy; the control plane never loads the SDK or the code server; the code server
never loads the control plane. Each check is shown to fail on a planted import."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from import_rules import RULES, Rule, runtime_modules, runtime_violations, static_violations

CONTROL_PLANE = next(r for r in RULES if r.package == "weir_controlplane")


@pytest.mark.parametrize("rule", RULES, ids=[r.package for r in RULES])
def test_no_file_imports_what_its_package_must_not(rule: Rule):
    assert static_violations(rule.source, rule.forbidden) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.package for r in RULES])
def test_importing_every_module_loads_nothing_forbidden(rule: Rule):
    assert runtime_violations(rule) == []


PLANTED = {
    "import": "import weir\n",
    "import-as": "import weir as dg\n",
    "import-list": "import os, weir._assets\n",
    "from": "from weir import asset\n",
    "from-private": "from weir._partitions.cron import parse_cron\n",
    "lazy": "def later():\n    import weir\n    return weir\n",
    "type-checking": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import weir\n",
    "dynamic": "import importlib\nSDK = importlib.import_module('weir')\n",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_static_check_flags_an_sdk_import_planted_in_the_control_plane(tmp_path, source):
    copy = tmp_path / "weir_controlplane"
    shutil.copytree(CONTROL_PLANE.source, copy)
    (copy / "api" / "planted.py").write_text(source)
    violations = static_violations(copy, CONTROL_PLANE.forbidden)
    assert len(violations) == 1
    assert violations[0].startswith("weir_controlplane/api/planted.py:")
    assert "imports weir" in violations[0]


def test_runtime_check_flags_an_sdk_import_planted_in_the_control_plane(tmp_path):
    copy = tmp_path / "weir_controlplane"
    shutil.copytree(CONTROL_PLANE.source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    # Deep in a module nothing else imports, and only at import time: only importing
    # every module finds it.
    (copy / "api" / "planted.py").write_text(
        textwrap.dedent(
            """
            import importlib

            _sdk = importlib.import_module("we" + "ir")
            """
        )
    )
    assert static_violations(copy, CONTROL_PLANE.forbidden) == []  # hidden from ast
    loaded_from, _ = runtime_modules("weir_controlplane", tmp_path, CONTROL_PLANE.scripts)
    assert loaded_from.startswith(str(copy))  # the copy, not the real package, was probed
    assert "weir" in runtime_violations(CONTROL_PLANE, path_first=tmp_path)


def test_a_name_that_only_starts_like_a_forbidden_one_is_allowed(tmp_path):
    copy = tmp_path / "weir_controlplane"
    copy.mkdir()
    (copy / "ok.py").write_text("import weir_protos.v1\nimport weir_selection\n")
    assert static_violations(copy, CONTROL_PLANE.forbidden) == []
