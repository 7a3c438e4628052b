"""`DbtProject`: where a dbt project, its profiles and its manifest are."""

from __future__ import annotations

import subprocess
from pathlib import Path

from weir._errors import DbtCliError, DefinitionError


class DbtProject:
    """A dbt project on disk.

    >>> project = DbtProject("analytics")  # doctest: +SKIP
    >>> project.manifest_path  # doctest: +SKIP
    PosixPath('analytics/target/manifest.json')

    The manifest comes from `dbt parse`; `prepare()` runs it (dagster-dbt's
    `prepare_if_dev`), or build it in CI and ship it with the code.
    """

    def __init__(
        self,
        project_dir: str | Path,
        *,
        profiles_dir: str | Path | None = None,
        target: str | None = None,
        target_path: str | Path | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        if not (self.project_dir / "dbt_project.yml").is_file():
            raise DefinitionError(f"{self.project_dir} is not a dbt project: no dbt_project.yml")
        self.profiles_dir = Path(profiles_dir).resolve() if profiles_dir else None
        self.target = target
        self.target_path = self.project_dir / (target_path or self._configured_target_path())
        self.manifest_path = self.target_path / "manifest.json"

    def _configured_target_path(self) -> str:
        """dbt_project.yml's `target-path`, else dbt's default "target"."""
        import yaml  # the weir[dbt] extra; loaded only for dbt projects

        config = yaml.safe_load((self.project_dir / "dbt_project.yml").read_text()) or {}
        value = config.get("target-path") if isinstance(config, dict) else None
        return str(value) if value else "target"

    def prepare(self, dbt_executable: str = "dbt") -> Path:
        """Run `dbt parse` to write the manifest; returns its path."""
        from weir.dbt._cli import DbtCliResource

        dbt = DbtCliResource(
            project_dir=str(self.project_dir),
            profiles_dir=str(self.profiles_dir) if self.profiles_dir else None,
            target=self.target,
            dbt_executable=dbt_executable,
        )
        command = [dbt.executable(), "parse", "--project-dir", str(self.project_dir)]
        command += ["--target-path", str(self.target_path)]
        if self.profiles_dir:
            command += ["--profiles-dir", str(self.profiles_dir)]
        if self.target:
            command += ["--target", self.target]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise DbtCliError(f"dbt parse failed (exit code {done.returncode}):\n{tail}")
        return self.manifest_path
