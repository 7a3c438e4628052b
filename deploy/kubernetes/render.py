"""Render Weir's Kubernetes manifests from one values file.

    python deploy/kubernetes/render.py values.yaml [--part all|migrate|app] [--check]

Plain manifests out (YAML documents on stdout), no chart engine: the one thing a template
language would add here is a loop over code locations, which is a list comprehension.
`--part migrate` is the Alembic migration Job alone, applied and waited for before an
upgrade; `--part app` is everything else. `--check` validates every resource against the
Kubernetes API's schemas (kubernetes-validate, pinned in uv.lock) instead of printing.
Why not Helm: deploy/KUBERNETES.md.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

PART_OF = {"app.kubernetes.io/part-of": "weir", "app.kubernetes.io/managed-by": "weir-render"}
GRPC_PORT, HTTP_PORT = 4000, 3000
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": False,  # the run workers write asset values under $WEIR_HOME
    "capabilities": {"drop": ["ALL"]},
}


class ValuesError(ValueError):
    """The values file asks for something that cannot be rendered; the message says what."""


def render(values: dict[str, Any], part: str = "all") -> list[Manifest]:
    ns = _required(values, "namespace", str)
    locations = [_location(entry, i) for i, entry in enumerate(values.get("locations") or [])]
    names = [loc["dns"] for loc in locations]
    if len(set(names)) != len(names):
        raise ValuesError(f"locations: two names map to one Kubernetes name: {names}")
    migrate = [migration_job(values, ns)]
    if part == "migrate":
        return migrate
    app = [
        *access(ns, any(loc.get("runJobs") for loc in locations)),
        workspace_config(values, ns, locations),
        *controlplane(values, ns),
        *([daemon(values, ns)] if (values.get("daemon") or {}).get("enabled", True) else []),
        *[resource for loc in locations for resource in location(values, ns, loc)],
        *[celery_workers(values, ns, loc) for loc in locations if loc.get("celeryWorker")],
    ]
    return app if part == "app" else migrate + app


def _required(values: dict[str, Any], key: str, kind: type) -> Any:
    value = values.get(key)
    if not isinstance(value, kind) or not value:
        raise ValuesError(f"{key} is required ({kind.__name__})")
    return value


def _location(entry: Any, index: int) -> dict[str, Any]:
    where = f"locations[{index}]"
    if not isinstance(entry, dict):
        raise ValuesError(f"{where} must be a mapping with name, image and port")
    for key, kind in (("name", str), ("image", str), ("port", int)):
        if not isinstance(entry.get(key), kind):
            raise ValuesError(f"{where}.{key} is required ({kind.__name__})")
    dns = "weir-location-" + re.sub(r"[^a-z0-9-]+", "-", entry["name"].lower()).strip("-")
    if not _DNS_LABEL.match(dns) or len(dns) > 63:
        raise ValuesError(f"{where}.name {entry['name']!r} makes no valid Kubernetes name")
    if entry.get("runJobs") and not entry.get("jobCommand"):
        raise ValuesError(
            f"{where}: runJobs needs a jobCommand, e.g. "
            "[python, -m, weir_codeserver.job_main, -m, my.definitions]"
        )
    worker = entry.get("celeryWorker")
    if worker is not None and not (isinstance(worker, dict) and "://" in str(worker.get("broker"))):
        raise ValuesError(f"{where}.celeryWorker needs a broker URL, e.g. redis://redis:6379/0")
    return {**entry, "dns": dns}


def _meta(name: str, ns: str, component: str, **extra: Any) -> Manifest:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, **PART_OF}
    return {"name": name, "namespace": ns, "labels": labels, **extra}


def _selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def _database_env(values: dict[str, Any]) -> list[Manifest]:
    secret = (values.get("database") or {}).get("secretName", "weir-database")
    ref = {"secretKeyRef": {"name": secret, "key": "url"}}
    return [{"name": "WEIR_DATABASE_URL", "valueFrom": ref}]


def _grpc_probes(port: int) -> Manifest:
    """Kubelet's own gRPC probes (grpc.health.v1): a draining server answers NOT_SERVING,
    so it leaves the Service's endpoints before it stops."""
    probe = {"grpc": {"port": port}, "periodSeconds": 10, "timeoutSeconds": 3}
    return {
        "startupProbe": {**probe, "failureThreshold": 30, "periodSeconds": 2},
        "readinessProbe": {**probe, "failureThreshold": 2},
        "livenessProbe": {**probe, "failureThreshold": 6},
    }


def _container(values: dict[str, Any], name: str, args: list[str], **extra: Any) -> Manifest:
    return {
        "name": name,
        "image": values["image"],
        "imagePullPolicy": values.get("imagePullPolicy", "IfNotPresent"),
        "args": args,
        "env": _database_env(values),
        "volumeMounts": [{"name": "workspace", "mountPath": "/etc/weir", "readOnly": True}],
        "securityContext": _CONTAINER_SECURITY,
        **extra,
    }


def _pod(containers: list[Manifest], account: str, **extra: Any) -> Manifest:
    return {
        "serviceAccountName": account,
        "securityContext": _POD_SECURITY,
        "containers": containers,
        "volumes": [{"name": "workspace", "configMap": {"name": "weir-workspace"}}],
        **extra,
    }


def access(ns: str, run_jobs: bool) -> list[Manifest]:
    """The control plane's account (allowed to manage run Jobs only when it launches them)
    and the run pods' account, which may call nothing."""
    accounts: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta("weir-controlplane", ns, "controlplane"),
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta("weir-run", ns, "run"),
            "automountServiceAccountToken": False,
        },
    ]
    if not run_jobs:
        return accounts
    rules = [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "delete"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta("weir-run-launcher", ns, "controlplane"),
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta("weir-run-launcher", ns, "controlplane"),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "weir-run-launcher",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "weir-controlplane", "namespace": ns}],
    }
    return [*accounts, role, binding]


def workspace_document(values: dict[str, Any], ns: str, locations: list[dict[str, Any]]) -> str:
    """The control planes' weir.yaml: each location by its Service's address, and the run
    launcher's job specs for those that run Jobs."""
    workspace: dict[str, Any] = {
        "locations": [
            {"name": loc["name"], "address": f"{loc['dns']}:{loc['port']}"} for loc in locations
        ]
    }
    jobs = {
        loc["name"]: {
            "image": loc["image"],
            "command": list(loc["jobCommand"]),
            "env_from_secrets": list(loc.get("envFromSecrets") or []),
            **({"resources": loc["resources"]} if loc.get("resources") else {}),
        }
        for loc in locations
        if loc.get("runJobs")
    }
    if jobs:
        settings = values.get("runJobs") or {}
        workspace["run_launcher"] = {
            "kubernetes": {
                "namespace": ns,
                "service_account": "weir-run",
                "job_ttl_seconds": settings.get("ttlSecondsAfterFinished", 3600),
                "termination_grace_seconds": settings.get("terminationGraceSeconds", 30),
                "locations": jobs,
            }
        }
    return yaml.safe_dump(workspace, sort_keys=False)


def workspace_config(values: dict[str, Any], ns: str, locations: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("weir-workspace", ns, "controlplane"),
        "data": {"weir.yaml": workspace_document(values, ns, locations)},
    }


def controlplane(values: dict[str, Any], ns: str) -> list[Manifest]:
    settings = values.get("controlplane") or {}
    name = "weir-controlplane"
    args = [
        "controlplane",
        "--host=0.0.0.0",
        "--workspace=/etc/weir/weir.yaml",
        f"--reporting-address={name}.{ns}.svc:{GRPC_PORT}",
    ]
    args += [f"--allowed-host={h}" for h in [f"{name}.{ns}.svc", *settings.get("allowedHosts", [])]]
    if (values.get("daemon") or {}).get("enabled", True):
        args.append("--no-daemons")
    ports = [
        {"name": "http", "containerPort": HTTP_PORT},
        {"name": "grpc", "containerPort": GRPC_PORT},
    ]
    container = _container(
        values,
        "controlplane",
        args,
        ports=ports,
        resources=settings.get("resources", {}),
        **_grpc_probes(GRPC_PORT),
    )
    # A config change rolls the replicas: the workspace is read at start.
    config_hash = hashlib.sha256(repr(values.get("locations")).encode()).hexdigest()[:16]
    template = {
        "metadata": {
            "labels": _meta(name, ns, "controlplane")["labels"],
            "annotations": {"weir.dev/workspace-hash": config_hash},
        },
        "spec": _pod([container], name, terminationGracePeriodSeconds=30),
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, ns, "controlplane"),
        "spec": {
            "replicas": settings.get("replicas", 2),
            "selector": {"matchLabels": _selector(name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": template,
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, ns, "controlplane"),
        "spec": {
            "selector": _selector(name),
            "ports": [
                {"name": "http", "port": HTTP_PORT, "targetPort": "http"},
                # h2c: gRPC over cleartext HTTP/2, for ingress controllers and meshes.
                {
                    "name": "grpc",
                    "port": GRPC_PORT,
                    "targetPort": "grpc",
                    "appProtocol": "kubernetes.io/h2c",
                },
            ],
        },
    }
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(name, ns, "controlplane"),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": _selector(name)}},
    }
    return [deployment, service, budget]


def daemon(values: dict[str, Any], ns: str) -> Manifest:
    name = "weir-daemon"
    args = ["daemon", "--workspace=/etc/weir/weir.yaml"]
    # `weir daemon` serves no port; its liveness is its ticks, shown in the API.
    container = _container(
        values, "daemon", args, resources=(values.get("daemon") or {}).get("resources", {})
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, ns, "daemon"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": _selector(name)},
            "template": {
                "metadata": {"labels": _meta(name, ns, "daemon")["labels"]},
                "spec": _pod([container], "weir-controlplane"),
            },
        },
    }


def location(values: dict[str, Any], ns: str, loc: dict[str, Any]) -> list[Manifest]:
    name, port = loc["dns"], loc["port"]
    env = [
        {"name": "WEIR_CODESERVER_HOST", "value": "0.0.0.0"},
        {"name": "WEIR_CODESERVER_PORT", "value": str(port)},
    ]
    if loc.get("celeryWorker"):  # its run workers send steps where its workers listen
        env.append({"name": "WEIR_CELERY_BROKER", "value": loc["celeryWorker"]["broker"]})
    container: Manifest = {
        "name": "codeserver",
        "image": loc["image"],
        "imagePullPolicy": values.get("imagePullPolicy", "IfNotPresent"),
        "env": env,
        "envFrom": [{"secretRef": {"name": s}} for s in loc.get("envFromSecrets") or []],
        "ports": [{"name": "grpc", "containerPort": port}],
        "resources": loc.get("resources") or {},
        "securityContext": _CONTAINER_SECURITY,
        **_grpc_probes(port),
    }
    if loc.get("args"):
        container["args"] = list(loc["args"])
    # Live runs finish in their workers; the deployment gives them time on a rollout.
    deployment = _user_code_deployment(name, ns, "code-location", container, loc.get("replicas", 1))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, ns, "code-location"),
        "spec": {
            "selector": _selector(name),
            "ports": [
                {
                    "name": "grpc",
                    "port": port,
                    "targetPort": "grpc",
                    "appProtocol": "kubernetes.io/h2c",
                }
            ],
        },
    }
    return [deployment, service]


def celery_workers(values: dict[str, Any], ns: str, loc: dict[str, Any]) -> Manifest:
    """The Celery workers of a location whose definitions use celery_executor: its image,
    running what `weir celery worker` runs, with the location's args. No database URL and
    no Service: they take steps from the broker and report to the control plane."""
    settings = loc["celeryWorker"]
    name = loc["dns"].replace("weir-location-", "weir-celery-", 1)
    args = ["worker", *(loc.get("args") or []), "--broker", settings["broker"]]
    args += ["--concurrency", str(settings.get("concurrency", 1))]
    if settings.get("queues"):
        args += ["--queues", ",".join(settings["queues"])]
    # Celery's own ping of this worker over the broker (its node name is celery@<pod>).
    ping = 'celery -b "$WEIR_CELERY_BROKER" inspect ping -t 5 -d "celery@$HOSTNAME"'
    container: Manifest = {
        "name": "celery-worker",
        "image": loc["image"],
        "imagePullPolicy": values.get("imagePullPolicy", "IfNotPresent"),
        "command": ["python", "-m", "weir_codeserver.celery"],
        "args": args,
        "env": [{"name": "WEIR_CELERY_BROKER", "value": settings["broker"]}],
        "envFrom": [{"secretRef": {"name": s}} for s in loc.get("envFromSecrets") or []],
        "resources": settings.get("resources") or {},
        "securityContext": _CONTAINER_SECURITY,
        "livenessProbe": {
            "exec": {"command": ["sh", "-c", ping]},
            "initialDelaySeconds": 30,
            "periodSeconds": 30,
            "timeoutSeconds": 10,
            "failureThreshold": 3,
        },
    }
    # A running step finishes in the grace period, or its lease runs out and it is retried.
    return _user_code_deployment(name, ns, "celery-worker", container, settings.get("replicas", 1))


def _user_code_deployment(
    name: str, ns: str, component: str, container: Manifest, replicas: int
) -> Manifest:
    """Pods that run user code: the run account (no API token), a minute to drain."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, ns, component),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _selector(name)},
            "template": {
                "metadata": {"labels": _meta(name, ns, component)["labels"]},
                "spec": {
                    "serviceAccountName": "weir-run",
                    "automountServiceAccountToken": False,
                    "securityContext": _POD_SECURITY,
                    "terminationGracePeriodSeconds": 60,
                    "containers": [container],
                },
            },
        },
    }


def migration_job(values: dict[str, Any], ns: str) -> Manifest:
    """`weir admin migrate` with the new image, before its control planes roll out. Named
    after the image, so each upgrade runs its own Job and a re-apply changes nothing."""
    image = _required(values, "image", str)
    name = f"weir-migrate-{hashlib.sha256(image.encode()).hexdigest()[:10]}"
    container = _container(values, "migrate", ["admin", "migrate"])
    container.pop("volumeMounts")
    pod = _pod([container], "weir-controlplane", restartPolicy="Never")
    pod.pop("volumes")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, ns, "migration", annotations={"weir.dev/image": image}),
        "spec": {
            "backoffLimit": 2,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": _meta(name, ns, "migration")["labels"]},
                "spec": pod,
            },
        },
    }


def check(manifests: list[Manifest], version: str) -> list[str]:
    """Each resource against the Kubernetes API's schema (strict: unknown fields fail)."""
    import kubernetes_validate

    problems = []
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = f"{manifest['kind']}/{manifest['metadata']['name']}"
            problems.append(f"{where}: {exc.message} (at {'.'.join(map(str, exc.path))})")
    return problems


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full: no &anchors and *aliases in a manifest."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("values", type=Path)
    parser.add_argument("--part", choices=["all", "migrate", "app"], default="all")
    parser.add_argument("--check", action="store_true", help="validate instead of printing")
    args = parser.parse_args(argv)
    try:
        values = yaml.safe_load(args.values.read_text()) or {}
        manifests = render(values, args.part)
    except (OSError, yaml.YAMLError, ValuesError) as exc:
        print(f"render.py: {args.values}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        version = str(values.get("kubernetesVersion", "1.33"))
        problems = check(manifests, version)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(
            f"{len(manifests) - len(problems)} of {len(manifests)} resources valid for "
            f"Kubernetes {version}"
        )
        return 1 if problems else 0
    sys.stdout.write(yaml.dump_all(manifests, Dumper=_PlainDumper, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
