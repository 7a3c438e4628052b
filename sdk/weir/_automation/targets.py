"""What a schedule or sensor launches: jobs, a job name, or an asset selection.

An asset selection given as ``target=`` becomes an implicit job named
``__anonymous_asset_job_<instigator name>``, which `Definitions` registers like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from weir._errors import DefinitionError
from weir._jobs import JobDefinition, define_asset_job

ANONYMOUS_JOB_PREFIX = "__anonymous_asset_job_"


@dataclass(frozen=True)
class Target:
    """The jobs an instigator may launch: definitions it carries, plus a bare job name that
    `Definitions` resolves."""

    jobs: tuple[JobDefinition, ...] = ()
    job_name: str | None = None

    @property
    def job_names(self) -> list[str]:
        names = [j.name for j in self.jobs]
        if self.job_name and self.job_name not in names:
            names.append(self.job_name)
        return names


def resolve_target(
    where: str,
    instigator_name: str,
    *,
    job: Any = None,
    job_name: str | None = None,
    jobs: Sequence[Any] | None = None,
    target: Any = None,
) -> Target:
    given = [
        arg
        for arg, value in (("job", job), ("job_name", job_name), ("jobs", jobs), ("target", target))
        if value is not None
    ]
    if len(given) > 1:
        raise DefinitionError(f"{where} sets {' and '.join(given)}; pass only one of them")
    if job is not None:
        return Target(jobs=(_check_job(job, where),))
    if jobs is not None:
        checked = tuple(_check_job(j, where) for j in jobs)
        if not checked:
            raise DefinitionError(f"{where} has jobs=[]; pass at least one job or leave it out")
        return Target(jobs=checked)
    if job_name is not None:
        if not isinstance(job_name, str) or not job_name:
            raise DefinitionError(f"{where} job_name must be a job's name, got {job_name!r}")
        return Target(job_name=job_name)
    if target is not None:
        if isinstance(target, JobDefinition):
            return Target(jobs=(target,))
        return Target(jobs=(define_asset_job(ANONYMOUS_JOB_PREFIX + instigator_name, target),))
    return Target()


def _check_job(job: Any, where: str) -> JobDefinition:
    if not isinstance(job, JobDefinition):
        raise DefinitionError(
            f"{where} targets {job!r}, which is not a job; make one with "
            f"define_asset_job('name', selection=...), or pass assets as target=[...]"
        )
    return job
