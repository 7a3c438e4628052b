"""The run launcher's section of weir.yaml. Without one, runs execute inside their code
location's server; with `kubernetes`, the locations it lists run one Job per run:

run_launcher:
  kubernetes:
    namespace: weir                  # where the Jobs go (default "default")
    service_account: weir-run        # the run pods' account (default: the namespace's)
    job_ttl_seconds: 3600            # finished Jobs are deleted after this long
    termination_grace_seconds: 30    # a canceled run's time to report RUN_CANCELED
    locations:                       # the others keep running in their servers
      quickstart:
        image: registry.example.com/quickstart:1.4.2
        command: [python, -m, weir_codeserver.job_main, -m, quickstart.defs]
        env: {WEIR_HOME: /data}
        env_from_secrets: [quickstart-credentials]
        resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {memory: 1Gi}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.workspace import read_workspace_file
from weir_controlplane.runs.kubernetes import KubernetesJobSpec, KubernetesLauncherSettings

_KUBERNETES_KEYS = {
    "namespace", "service_account", "api_url", "job_ttl_seconds", "termination_grace_seconds",
    "image_pull_policy", "locations",
}  # fmt: skip
_LOCATION_KEYS = {"image", "command", "env", "env_from_secrets", "resources"}
_PULL_POLICIES = {"Always", "IfNotPresent", "Never"}


def load_run_launcher(path: str | Path) -> KubernetesLauncherSettings | None:
    """The `run_launcher:` section of the weir.yaml at `path`; None when it has none."""
    return parse_run_launcher(read_workspace_file(Path(path)).get("run_launcher"), str(path))


def parse_run_launcher(section: Any, where: str) -> KubernetesLauncherSettings | None:
    if section is None:
        return None
    if not isinstance(section, dict) or set(section) != {"kubernetes"}:
        raise InvalidArgumentError(
            f"{where}: run_launcher must hold one launcher, `kubernetes:`, got {section!r}"
        )
    k8s = section["kubernetes"]
    where = f"{where}: run_launcher.kubernetes"
    if not isinstance(k8s, dict):
        raise InvalidArgumentError(f"{where} must be a mapping, got {k8s!r}")
    _no_unknown(k8s, _KUBERNETES_KEYS, where)
    locations = k8s.get("locations")
    if not isinstance(locations, dict) or not locations:
        raise InvalidArgumentError(
            f"{where}.locations must map code-location names to {{image, command}}"
        )
    pull = k8s.get("image_pull_policy", "IfNotPresent")
    if pull not in _PULL_POLICIES:
        raise InvalidArgumentError(
            f"{where}.image_pull_policy must be one of {sorted(_PULL_POLICIES)}, got {pull!r}"
        )
    return KubernetesLauncherSettings(
        locations={
            str(name): _job_spec(spec, f"{where}.locations.{name}")
            for name, spec in locations.items()
        },
        namespace=_text(k8s, "namespace", where, "default"),
        service_account=_text(k8s, "service_account", where, ""),
        api_url=_text(k8s, "api_url", where, ""),
        ttl_seconds_after_finished=_count(k8s, "job_ttl_seconds", where, 3600),
        termination_grace_seconds=_count(k8s, "termination_grace_seconds", where, 30),
        image_pull_policy=pull,
    )


def _job_spec(entry: Any, where: str) -> KubernetesJobSpec:
    if not isinstance(entry, dict):
        raise InvalidArgumentError(f"{where} must be a mapping with image and command")
    _no_unknown(entry, _LOCATION_KEYS, where)
    image = entry.get("image")
    if not isinstance(image, str) or not image:
        raise InvalidArgumentError(f"{where} needs an image (image: registry/name:tag)")
    command = entry.get("command")
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise InvalidArgumentError(
            f"{where}.command must be a list of strings, e.g. "
            "[python, -m, weir_codeserver.job_main, -m, my.definitions]"
        )
    env = entry.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) for k in env):
        raise InvalidArgumentError(f"{where}.env must map variable names to values")
    secrets = entry.get("env_from_secrets") or []
    if not (isinstance(secrets, list) and all(isinstance(s, str) and s for s in secrets)):
        raise InvalidArgumentError(f"{where}.env_from_secrets must be a list of Secret names")
    resources = entry.get("resources") or {}
    if not isinstance(resources, dict) or not set(resources) <= {"requests", "limits"}:
        raise InvalidArgumentError(f"{where}.resources may hold only requests and limits")
    return KubernetesJobSpec(
        image=image,
        command=tuple(command),
        env={k: str(v) for k, v in env.items()},
        env_from_secrets=tuple(secrets),
        resources=resources,
    )


def _no_unknown(entry: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise InvalidArgumentError(
            f"{where} has unknown settings {unknown}; known: {sorted(known)}"
        )


def _text(entry: dict[str, Any], key: str, where: str, default: str) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{where}.{key} must be a string, got {value!r}")
    return value


def _count(entry: dict[str, Any], key: str, where: str, default: int) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(
            f"{where}.{key} must be a whole number of seconds, got {value!r}"
        )
    return value
