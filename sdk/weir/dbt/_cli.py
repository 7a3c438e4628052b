"""`DbtCliResource`: runs the dbt CLI for a project and maps its run_results.json.

dbt runs as a child process (the `dbt` executable, which may live in an environment of
its own: dbt-core and Weir need not share dependencies). Each invocation writes to a
target path of its own, so concurrent runs never read each other's artifacts.

    @dbt_assets(manifest=project.manifest_path)
    def jaffle_shop(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import model_validator

from weir._config import ConfigurableResource
from weir._context import AssetExecutionContext
from weir._errors import DbtCliError, WeirError
from weir._metadata import MetadataValue
from weir._results import AssetCheckResult, AssetCheckSeverity, MaterializeResult
from weir.dbt._manifest import DbtManifest
from weir.dbt._project import DbtProject

# What `@dbt_assets` registers per node name, for `cli(context=...)` to find its manifest.
_MANIFESTS: dict[str, DbtManifest] = {}

_SUCCESS = {"success"}
_CHECK_PASSED = {"pass"}
_CHECK_FAILED = {"fail", "warn", "error"}


def register_manifest(node_name: str, manifest: DbtManifest) -> None:
    _MANIFESTS[node_name] = manifest


class DbtCliResource(ConfigurableResource):
    """Runs dbt commands for one project.

    `dbt_executable` is the dbt to run: a name on PATH (default "dbt", looked up beside
    this Python first) or a path, e.g. to a virtual environment of its own.
    """

    project_dir: str
    profiles_dir: str | None = None
    target: str | None = None
    dbt_executable: str = "dbt"

    @model_validator(mode="before")
    @classmethod
    def _from_project(cls, values: Any) -> Any:
        """Accept a DbtProject as project_dir (as dagster-dbt does), with its profiles
        and target unless given."""
        if isinstance(values, dict) and isinstance(values.get("project_dir"), DbtProject):
            project: DbtProject = values["project_dir"]
            values = {**values, "project_dir": str(project.project_dir)}
            if values.get("profiles_dir") is None and project.profiles_dir is not None:
                values["profiles_dir"] = str(project.profiles_dir)
            if values.get("target") is None and project.target is not None:
                values["target"] = project.target
        return values

    def cli(
        self,
        args: Sequence[str],
        *,
        context: AssetExecutionContext | None = None,
        raise_on_error: bool = True,
    ) -> DbtCliInvocation:
        """Start `dbt <args>`. Given the context of a `@dbt_assets` asset, the command is
        limited to the assets the run selected (`--select` of their fully qualified names)."""
        manifest = None
        command = [self.executable(), *args]
        if context is not None:
            manifest = _MANIFESTS.get(context.op_name)
            if manifest is None:
                raise WeirError(
                    f"'{context.op_name}' is not a @dbt_assets asset; pass context= only there"
                )
            if "--select" not in args and "-s" not in args:
                command += ["--select", *_selection(manifest, context)]
        target_path = Path(self.project_dir) / "target" / f"weir-{uuid.uuid4().hex[:12]}"
        command += ["--project-dir", self.project_dir, "--target-path", str(target_path)]
        if self.profiles_dir:
            command += ["--profiles-dir", self.profiles_dir]
        if self.target:
            command += ["--target", self.target]
        return DbtCliInvocation.run(command, target_path, manifest, context, raise_on_error)

    def executable(self) -> str:
        """The dbt program to start; a clear error when there is none."""
        if os.sep in self.dbt_executable:
            if not Path(self.dbt_executable).is_file():
                raise DbtCliError(f"dbt_executable {self.dbt_executable} does not exist")
            return self.dbt_executable
        beside = Path(sys.executable).parent / self.dbt_executable
        if beside.is_file():
            return str(beside)
        found = shutil.which(self.dbt_executable)
        if found is None:
            raise DbtCliError(
                f"no {self.dbt_executable!r} on PATH: install dbt-core and an adapter, or set "
                "DbtCliResource(dbt_executable=...) to its path"
            )
        return found


def _selection(manifest: DbtManifest, context: AssetExecutionContext) -> list[str]:
    wanted = set(context.asset_keys)
    return [
        "fqn:" + ".".join(node.fqn) for node in manifest.nodes.values() if node.spec.key in wanted
    ]


@dataclass
class DbtCliInvocation:
    """A finished dbt command: its output, exit code and artifacts."""

    command: list[str]
    target_path: Path
    manifest: DbtManifest | None
    context: AssetExecutionContext | None
    raise_on_error: bool
    returncode: int = 0
    output: str = ""
    _results: list[Mapping[str, Any]] = field(default_factory=list)

    @classmethod
    def run(
        cls,
        command: list[str],
        target_path: Path,
        manifest: DbtManifest | None,
        context: AssetExecutionContext | None,
        raise_on_error: bool,
    ) -> DbtCliInvocation:
        invocation = cls(command, target_path, manifest, context, raise_on_error)
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        invocation.returncode = completed.returncode
        invocation.output = completed.stdout + completed.stderr
        if context is not None:
            for line in invocation.output.splitlines():
                if line.strip():
                    context.log.info(line)
        return invocation

    def is_successful(self) -> bool:
        return self.returncode == 0

    def get_artifact(self, name: str) -> dict[str, Any]:
        """A JSON artifact dbt wrote for this invocation, e.g. "run_results.json"."""
        path = self.target_path / name
        try:
            document: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            raise DbtCliError(
                f"dbt wrote no {name} (exit code {self.returncode}):\n{self._tail()}"
            ) from None
        return document

    def wait(self) -> DbtCliInvocation:
        """Raise `DbtCliError` if dbt failed (and `raise_on_error`), naming what failed."""
        if self.raise_on_error and not self.is_successful():
            if not self._results and (self.target_path / "run_results.json").is_file():
                self._results = list(self.get_artifact("run_results.json").get("results", []))
            raise DbtCliError(self._failure())
        return self

    def stream(self) -> Iterator[MaterializeResult | AssetCheckResult]:
        """A MaterializeResult per model, seed or snapshot built, and an AssetCheckResult
        per test run, from run_results.json; then `DbtCliError` if dbt failed."""
        if self.manifest is None:
            raise WeirError("stream() needs the invocation of a @dbt_assets asset (context=)")
        results = self.get_artifact("run_results.json").get("results", [])
        self._results = list(results)
        for result in self._results:
            event = _event(self.manifest, result)
            if event is not None:
                yield event
        self.wait()

    def _failure(self) -> str:
        failed = [
            f"{result.get('unique_id')} ({result.get('status')}: {result.get('message')})"
            for result in self._results
            if result.get("status") in ("error", "fail")
        ]
        if failed:
            return "dbt failed: " + "; ".join(failed)
        return f"dbt exited with code {self.returncode}:\n{self._tail()}"

    def _tail(self, lines: int = 20) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def _event(
    manifest: DbtManifest, result: Mapping[str, Any]
) -> MaterializeResult | AssetCheckResult | None:
    unique_id = str(result.get("unique_id", ""))
    status = str(result.get("status", ""))
    metadata: dict[str, Any] = {
        "dbt/unique_id": MetadataValue.text(unique_id),
        "dbt/status": MetadataValue.text(status),
    }
    if isinstance(result.get("execution_time"), int | float):
        metadata["dbt/execution_time"] = MetadataValue.float(float(result["execution_time"]))
    adapter_response = result.get("adapter_response") or {}
    if isinstance(adapter_response.get("rows_affected"), int):
        metadata["dbt/rows_affected"] = MetadataValue.int(adapter_response["rows_affected"])
    node = manifest.nodes.get(unique_id)
    if node is not None:
        if status not in _SUCCESS:
            return None  # failed or skipped: not materialized
        return MaterializeResult(asset_key=node.spec.key, metadata=metadata)
    test = manifest.tests.get(unique_id)
    if test is None or status not in _CHECK_PASSED | _CHECK_FAILED:
        return None
    if isinstance(result.get("failures"), int):
        metadata["dbt/failures"] = MetadataValue.int(result["failures"])
    message = result.get("message")
    return AssetCheckResult(
        passed=status in _CHECK_PASSED,
        severity=AssetCheckSeverity.WARN if status == "warn" else AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=str(message) if message else None,
        asset_key=test.asset_key,
        check_name=test.name,
    )
