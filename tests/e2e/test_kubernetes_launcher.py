"""The Kubernetes run launcher against a small real API server (fake_kubernetes.py) whose
kubelet runs each Job's command as a local process: a run executes as a Job, reports back
over RunReportingService, is canceled by deleting its Job, and is launched once however
often the launch is retried."""

from __future__ import annotations

import base64
import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest
from conftest import LOCATIONS, free_port
from fake_kubernetes import FakeKubernetes
from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError, UnavailableError
from weir_controlplane.runs.kubernetes import (
    REQUEST_PATH,
    KubernetesJobSpec,
    KubernetesLauncherSettings,
    KubernetesRunLauncher,
    job_manifest,
    job_name,
)
from weir_controlplane.runs.launcher import CodeLocationLauncher
from weir_controlplane.runs.launcher_config import parse_run_launcher
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, NewRun, Storage
from weir_protos.v1 import code_location_pb2

NAMESPACE = "weir-test"
IMAGE = "registry.example.test/pipeline:1.0"


@pytest.fixture
def fake_k8s(tmp_path: Path, e2e_env: dict[str, str]) -> Iterator[FakeKubernetes]:
    fake = FakeKubernetes(tmp_path / "kubelet", e2e_env)
    yield fake
    fake.close()


def launcher_yaml(api_url: str) -> str:
    command = [
        sys.executable,
        "-m",
        "weir_codeserver.job_main",
        "-f",
        str(LOCATIONS / "pipeline.py"),
    ]
    return (
        "run_launcher:\n  kubernetes:\n"
        f"    namespace: {NAMESPACE}\n    api_url: {api_url}\n"
        "    termination_grace_seconds: 5\n"
        f"    locations:\n      pipeline:\n        image: {IMAGE}\n"
        f"        command: {command}\n"
        "        env: {WEIR_JOB_MARK: from-the-job-spec}\n"
    )


def pipeline_location() -> dict[str, str]:
    return {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}


def test_a_run_executes_as_a_job_and_reports_back(start_control_plane, fake_k8s):
    # Workers report to the address the control plane is told (a Service's, in a cluster).
    port = free_port()
    plane = start_control_plane(
        [pipeline_location()], launcher_yaml(fake_k8s.url),
        grpc_port=port, reporting_address=f"localhost:{port}",
    )  # fmt: skip
    api = plane.api
    run_id = api.launch("raw slow after_slow")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)

    name = job_name(run_id)
    job = fake_k8s.jobs[(NAMESPACE, name)]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert container["command"][-2:] == ["--request-file", REQUEST_PATH]
    assert {"name": "WEIR_JOB_MARK", "value": "from-the-job-spec"} in container["env"]
    assert fake_k8s.pod_exit_code(NAMESPACE, name) == 0
    assert job["status"]["succeeded"] == 1
    # The request (and the run's token) travel in the Job's own Secret, not in its spec.
    secret = fake_k8s.secrets[(NAMESPACE, name)]
    assert secret["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    request = code_location_pb2.ExecuteRunRequest.FromString(
        base64.b64decode(secret["data"]["request"])
    )
    assert request.run_id == run_id
    assert request.reporting_address == f"localhost:{port}"

    kinds = [e["eventType"].removeprefix("RUN_EVENT_TYPE_") for e in api.events(run_id)]
    assert kinds.count("ASSET_MATERIALIZATION") == 3
    asset = api("GetAsset", key={"path": ["after_slow"]})["asset"]
    assert asset["latestMaterialization"]["runId"] == run_id


def test_cancel_deletes_the_job_and_the_worker_ends_the_run(
    start_control_plane, fake_k8s, control_dir
):
    (control_dir / "slow.hold").touch()
    api = start_control_plane([pipeline_location()], launcher_yaml(fake_k8s.url)).api
    run_id = api.launch("raw slow after_slow")
    api.wait_event(run_id, "STEP_START", "slow")
    api("CancelRun", runId=run_id)
    name = job_name(run_id)
    path = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{name}?propagationPolicy=Background"
    delete = ("DELETE", path)
    deadline = time.monotonic() + 20
    while delete not in fake_k8s.calls and time.monotonic() < deadline:
        time.sleep(0.02)
    assert delete in fake_k8s.calls, fake_k8s.calls
    (control_dir / "slow.hold").unlink()  # the step returns; the worker sees its SIGTERM
    run = api.wait_status(run_id, "CANCELED", "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_CANCELED", api.events(run_id)

    assert (NAMESPACE, name) not in fake_k8s.jobs
    assert (NAMESPACE, name) not in fake_k8s.secrets  # owned by the Job: gone with it
    # The worker, not the control plane, said so: it got SIGTERM and reported RUN_CANCELED.
    kinds = [e["eventType"].removeprefix("RUN_EVENT_TYPE_") for e in api.events(run_id)]
    assert "RUN_CANCELED" in kinds
    materialized = [
        e["stepKey"] for e in api.events(run_id) if e["eventType"].endswith("MATERIALIZATION")
    ]
    assert "raw" in materialized and "after_slow" not in materialized
    assert fake_k8s.pod_exit_code(NAMESPACE, name) == 0


# --- the launcher on its own ---------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    storage = Storage.open(f"sqlite:///{tmp_path / 'weir.db'}")
    yield storage
    storage.close()


def settings(api_url: str) -> KubernetesLauncherSettings:
    spec = KubernetesJobSpec(image=IMAGE, command=("python", "-m", "weir_codeserver.job_main"))
    return KubernetesLauncherSettings({"pipeline": spec}, namespace=NAMESPACE, api_url=api_url)


def launcher(api_url: str, storage: Storage) -> KubernetesRunLauncher:
    return KubernetesRunLauncher(settings(api_url), CodeLocationLauncher(_NoRegistry()))  # type: ignore[arg-type]


class _NoRegistry:
    """Every test here names a location the launcher has a job spec for."""


def queued_run(storage: Storage, run_id: str = "7b0c1e0a-0f1d-4c55-9a53-1d2f3e4a5b6c"):
    scope = storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
    run = storage.runs.create_run(
        scope, NewRun(run_id=run_id, code_location="pipeline", selection="raw", asset_keys=("raw",))
    )
    return scope, run


def test_a_repeated_launch_makes_one_job(tmp_path, e2e_env, storage):
    fake = FakeKubernetes(tmp_path, e2e_env, run_pods=False)
    try:
        scope, run = queued_run(storage)
        request = code_location_pb2.ExecuteRunRequest(run_id=run.run_id, reporting_token="s3cret")
        k8s = launcher(fake.url, storage)
        k8s.launch(scope, run, request)
        k8s.launch(scope, run, request)  # a control plane that crashed mid-launch, again
        assert list(fake.jobs) == [(NAMESPACE, job_name(run.run_id))]
        assert "s3cret" not in json.dumps(fake.jobs[(NAMESPACE, job_name(run.run_id))])
        posts = [path for method, path in fake.calls if method == "POST"]
        assert len(posts) == 4  # each launch: the Job (then 409), its Secret (then 409)
        assert k8s.worker_gone(scope, run) is None  # the Job is there and not finished

        fake.jobs[(NAMESPACE, job_name(run.run_id))]["status"] = {
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
                            "message": "Job was active longer than specified deadline"}],
        }  # fmt: skip
        gone = k8s.worker_gone(scope, run)
        assert gone is not None and "DeadlineExceeded" in gone and "deadline" in gone
        k8s.terminate(scope, run)
        assert "no longer exists" in (k8s.worker_gone(scope, run) or "")
        k8s.terminate(scope, run)  # deleting a deleted Job is not an error
    finally:
        fake.close()


def test_refusals_and_an_unreachable_api_are_told_apart(tmp_path, e2e_env, storage):
    fake = FakeKubernetes(tmp_path, e2e_env, run_pods=False)
    try:
        scope, run = queued_run(storage)
        request = code_location_pb2.ExecuteRunRequest(run_id=run.run_id)
        fake.refuse = (403, 'jobs.batch is forbidden: User "system:serviceaccount:weir:weir" '
                            "cannot create resource")  # fmt: skip
        with pytest.raises(FailedPreconditionError, match=r"refused to create Job.*403.*forbidden"):
            launcher(fake.url, storage).launch(scope, run, request)
        fake.refuse = (503, "etcdserver: leader changed")
        with pytest.raises(UnavailableError, match="503 etcdserver"):
            launcher(fake.url, storage).launch(scope, run, request)
    finally:
        fake.close()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(UnavailableError, match="Cannot reach Kubernetes"):
        launcher(url, storage).launch(scope, run, request)


@pytest.mark.parametrize(
    "run_id",
    ["7b0c1e0a-0f1d-4c55-9a53-1d2f3e4a5b6c", "Nightly_Run.2026", "x" * 80, "--", "ABC", "abc"],
)
def test_job_names_are_stable_valid_and_distinct(run_id):
    name = job_name(run_id)
    assert name == job_name(run_id)
    assert len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert job_name("ABC") != job_name("abc")


def test_the_job_manifest_is_valid_kubernetes(storage):
    scope, run = queued_run(storage, "Nightly_Run.2026")
    spec = KubernetesJobSpec(
        image=IMAGE,
        command=("python", "-m", "weir_codeserver.job_main", "-m", "pipeline"),
        env={"WEIR_HOME": "/data"},
        env_from_secrets=("pipeline-credentials",),
        resources={"requests": {"cpu": "500m", "memory": "512Mi"}},
    )
    config = KubernetesLauncherSettings({"pipeline": spec}, service_account="weir-run")
    manifest = job_manifest(config, spec, scope, run)
    kubernetes_validate.validate(manifest, "1.33", strict=True)  # raises when invalid
    assert manifest["metadata"]["annotations"]["weir.dev/run-id"] == "Nightly_Run.2026"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"docker": {}}, "one launcher, `kubernetes:`"),
        ({"kubernetes": {"locations": {}}}, "locations must map"),
        ({"kubernetes": {"locations": {"a": {"command": ["x"]}}}}, r"locations\.a needs an image"),
        ({"kubernetes": {"locations": {"a": {"image": "i", "command": "run"}}}}, "list of strings"),
        ({"kubernetes": {"nmespace": "x", "locations": {"a": {}}}},
         r"unknown settings \['nmespace'\]"),
        ({"kubernetes": {"job_ttl_seconds": -1,
                         "locations": {"a": {"image": "i", "command": ["x"]}}}},
         "job_ttl_seconds must be a whole number"),
    ],
)  # fmt: skip
def test_bad_launcher_settings_name_what_to_fix(section, message):
    with pytest.raises(InvalidArgumentError, match=message):
        parse_run_launcher(section, "weir.yaml")


def test_no_section_keeps_runs_in_their_servers():
    assert parse_run_launcher(None, "weir.yaml") is None
