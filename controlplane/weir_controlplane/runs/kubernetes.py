"""KubernetesRunLauncher: one Kubernetes Job per run, in the code location's image.

For each run of a location it has a job spec for, it creates:

- a Job named after the run (`job_name`), so a relaunch after a crash finds the Job it
  already made (409 AlreadyExists) instead of starting a second worker;
- a Secret of the same name holding the serialized ExecuteRunRequest (with the run's
  reporting token), mounted read-only at REQUEST_PATH and owned by the Job, so it goes
  when the Job goes. The token never appears in the Job's spec or environment.

The container runs the spec's command plus `--request-file REQUEST_PATH`; for a Python
location that is `python -m weir_codeserver.job_main -m your.definitions`. The worker
reports events and heartbeats over RunReportingService like any other; a cancel deletes
the Job, whose pod gets SIGTERM and ends the run as RUN_CANCELED. Locations without a
job spec keep running inside their code-location server (CodeLocationLauncher).

Needs the official client: `pip install 'weir-controlplane[kubernetes]'`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from weir_protos.v1 import code_location_pb2

from weir_controlplane.errors import ApiError, FailedPreconditionError, UnavailableError
from weir_controlplane.runs.launcher import CodeLocationLauncher
from weir_controlplane.storage import DeploymentScope, Run

if TYPE_CHECKING:
    from kubernetes import client as k8s

log = logging.getLogger(__name__)

REQUEST_DIR = "/var/run/weir"
REQUEST_PATH = f"{REQUEST_DIR}/request"
_NAME_PREFIX = "weir-run-"
_MAX_NAME = 63  # a Job's name becomes its pods' job-name label value
_TIMEOUT = 10.0  # seconds per API call


@dataclass(frozen=True)
class KubernetesJobSpec:
    """How one code location's runs execute: its image and the worker's command."""

    image: str
    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    # Secrets whose keys become environment variables (the user code's own credentials).
    env_from_secrets: tuple[str, ...] = ()
    resources: Mapping[str, Any] = field(default_factory=dict)  # requests / limits


@dataclass(frozen=True)
class KubernetesLauncherSettings:
    locations: Mapping[str, KubernetesJobSpec]
    namespace: str = "default"
    service_account: str = ""  # "" is the namespace's default
    # "" : in-cluster configuration (the pod's service account), else ~/.kube/config.
    api_url: str = ""
    ttl_seconds_after_finished: int = 3600
    termination_grace_seconds: int = 30
    image_pull_policy: str = "IfNotPresent"


def job_name(run_id: str) -> str:
    """The run's Job (and Secret) name: a DNS-1123 label, the same on every launch. A run id
    that is not already lowercase [a-z0-9-], or too long, gets a digest of itself appended
    so two ids never share a name."""
    slug = re.sub(r"[^a-z0-9-]+", "-", run_id.lower()).strip("-")
    name = f"{_NAME_PREFIX}{slug}"
    if slug == run_id and len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:10]
    keep = _MAX_NAME - len(_NAME_PREFIX) - len(digest) - 1
    return f"{_NAME_PREFIX}{slug[:keep].rstrip('-') or 'run'}-{digest}"


def job_manifest(
    settings: KubernetesLauncherSettings, spec: KubernetesJobSpec, scope: DeploymentScope, run: Run
) -> dict[str, Any]:
    name = job_name(run.run_id)
    labels = {"app.kubernetes.io/name": "weir-run", "app.kubernetes.io/managed-by": "weir"}
    annotations = {
        "weir.dev/run-id": run.run_id,
        "weir.dev/code-location": run.code_location,
        "weir.dev/deployment": scope.name,
    }
    container: dict[str, Any] = {
        "name": "run",
        "image": spec.image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": [*spec.command, "--request-file", REQUEST_PATH],
        "env": [{"name": k, "value": v} for k, v in sorted(spec.env.items())],
        "envFrom": [{"secretRef": {"name": secret}} for secret in spec.env_from_secrets],
        "volumeMounts": [{"name": "run-request", "mountPath": REQUEST_DIR, "readOnly": True}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }
    if spec.resources:
        container["resources"] = dict(spec.resources)
    pod_spec: dict[str, Any] = {
        # Retries are the run's retry policy's to decide, never Kubernetes' (a second pod
        # would re-execute steps that already reported).
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": settings.termination_grace_seconds,
        "containers": [container],
        "volumes": [{"name": "run-request", "secret": {"secretName": name}}],
    }
    if settings.service_account:
        pod_spec["serviceAccountName"] = settings.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": pod_spec,
            },
        },
    }


def request_secret(name: str, job_uid: str, request: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "weir"},
            "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": job_uid}
            ],
        },
        "data": {"request": base64.b64encode(request).decode()},
    }


class KubernetesRunLauncher:
    def __init__(
        self,
        settings: KubernetesLauncherSettings,
        fallback: CodeLocationLauncher,
        api_client: k8s.ApiClient | None = None,
    ) -> None:
        try:
            from kubernetes import client
        except ImportError:
            raise FailedPreconditionError(
                "The Kubernetes run launcher needs the kubernetes client: "
                "pip install 'weir-controlplane[kubernetes]'"
            ) from None
        self.settings = settings
        self._fallback = fallback
        api = api_client or _api_client(settings.api_url)
        self._batch = client.BatchV1Api(api)
        self._core = client.CoreV1Api(api)

    def launch(
        self, scope: DeploymentScope, run: Run, request: code_location_pb2.ExecuteRunRequest
    ) -> None:
        spec = self.settings.locations.get(run.code_location)
        if spec is None:
            self._fallback.launch(scope, run, request)
            return
        namespace, name = self.settings.namespace, job_name(run.run_id)
        manifest = job_manifest(self.settings, spec, scope, run)
        where = f"Job {namespace}/{name}"
        job = _call(f"create {where}", self._batch.create_namespaced_job, namespace, manifest,
                    tolerate=409)  # fmt: skip
        if job is None:
            # Launched before a crash: that Job is this run's worker; start no second one.
            log.info("run %s: %s exists; not starting another", run.run_id, where)
            job = _call(f"read {where}", self._batch.read_namespaced_job, name, namespace)
        secret = request_secret(name, job.metadata.uid, request.SerializeToString())
        # 409: the earlier launch's Secret, which its pod may already have mounted.
        _call(f"create Secret {namespace}/{name}", self._core.create_namespaced_secret,
              namespace, secret, tolerate=409)  # fmt: skip

    def terminate(self, scope: DeploymentScope, run: Run) -> None:
        if run.code_location not in self.settings.locations:
            self._fallback.terminate(scope, run)
            return
        namespace, name = self.settings.namespace, job_name(run.run_id)
        # Background: the pod gets SIGTERM and its grace period; the Secret follows the Job.
        _call(f"delete Job {namespace}/{name}", self._batch.delete_namespaced_job, name,
              namespace, propagation_policy="Background", tolerate=404)  # fmt: skip

    def worker_gone(self, scope: DeploymentScope, run: Run) -> str | None:
        if run.code_location not in self.settings.locations:
            return self._fallback.worker_gone(scope, run)
        namespace, name = self.settings.namespace, job_name(run.run_id)
        where = f"Kubernetes Job {namespace}/{name}"
        try:
            job = _call(f"read Job {namespace}/{name}", self._batch.read_namespaced_job, name,
                        namespace, tolerate=404)  # fmt: skip
        except ApiError as exc:
            log.info("cannot reconcile run %s now: %s", run.run_id, exc.message)
            return None
        if job is None:
            return f"The run worker is gone: its {where} no longer exists"
        status = job.status
        for condition in (status.conditions if status else None) or []:
            if condition.type == "Failed" and condition.status == "True":
                why = ": ".join(p for p in (condition.reason, condition.message) if p)
                return f"The run's {where} failed ({why})"
        if status is not None and (status.succeeded or status.failed):
            return f"The run worker exited without reporting its end (its {where} has finished)"
        return None


def _api_client(api_url: str) -> k8s.ApiClient:
    from kubernetes import client, config

    if api_url:
        return client.ApiClient(client.Configuration(host=api_url))
    try:
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config()
        except (config.ConfigException, OSError) as exc:
            raise FailedPreconditionError(
                "The Kubernetes run launcher found no cluster: not in a pod, and no usable "
                f"kubeconfig ({exc}); set run_launcher.kubernetes.api_url"
            ) from None
    return client.ApiClient()


def _call(what: str, method: Any, *args: Any, tolerate: int | None = None, **kwargs: Any) -> Any:
    """`method(*args, **kwargs)` on the API; None when it answers the `tolerate` status.
    Unreachable or a 5xx is UnavailableError (CODE_LOCATION_UNAVAILABLE for a launch); any
    other refusal (403 from RBAC, 422 invalid) is FailedPreconditionError (START_FAILED)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return method(*args, _request_timeout=_TIMEOUT, **kwargs)
    except ApiException as exc:
        if tolerate is not None and exc.status == tolerate:
            return None
        detail = f"{exc.status} {_status_message(exc.body) or exc.reason}"
        if exc.status is None or exc.status >= 500:
            raise UnavailableError(f"Kubernetes could not {what}: {detail}") from None
        raise FailedPreconditionError(f"Kubernetes refused to {what}: {detail}") from None
    except (HTTPError, OSError) as exc:
        raise UnavailableError(f"Cannot reach Kubernetes to {what}: {exc}") from None


def _status_message(body: Any) -> str | None:
    """The message of the API server's Status object, if its answer carried one."""
    try:
        message = json.loads(body or "{}").get("message")
    except (ValueError, AttributeError, TypeError):
        return None
    return message if isinstance(message, str) else None
