"""deploy/ without Docker or a cluster: the compose file and the rendered Kubernetes
manifests are valid, and the configuration they hand the control plane is what its own
parsers accept, with every address pointing at a service that exists."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from weir_controlplane.locations.workspace import load_workspace
from weir_controlplane.runs.launcher_config import parse_run_launcher

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render", DEPLOY / "kubernetes" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = load_render()


def example_values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kubernetes" / "values.yaml").read_text())


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


# --- compose --------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_follows_the_compose_specification():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec",
         DEPLOY / "compose.yaml"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_catches_a_broken_file(tmp_path):
    broken = compose()
    broken["services"]["proxy"]["helthcheck"] = broken["services"]["proxy"].pop("healthcheck")
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1 and "helthcheck" in result.stdout


def test_compose_runs_two_replicas_behind_one_proxy_with_two_locations():
    services = compose()["services"]
    assert services["controlplane"]["deploy"]["replicas"] == 2
    assert "ports" not in services["controlplane"]  # reached only through the proxy
    assert {"127.0.0.1:3000:3000", "127.0.0.1:4000:4000"} <= set(services["proxy"]["ports"])
    env = services["controlplane"]["environment"]
    assert env["WEIR_REPORTING_ADDRESS"] == "proxy:4000"
    assert "@postgres:5432/" in env["WEIR_DATABASE_URL"]
    assert services["bootstrap"]["command"] == ["admin", "bootstrap"]
    for name, service in services.items():
        if "build" in service:  # each image the file builds exists and passes hadolint
            assert (ROOT / service["build"]["dockerfile"]).exists(), name
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    assert "grpc_pass grpc://controlplane_grpc" in nginx and "http2 on;" in nginx


def test_compose_workspace_names_each_location_at_its_service_port():
    services = compose()["services"]
    specs = load_workspace(DEPLOY / "compose" / "weir.yaml")
    for spec in specs:
        assert spec.address is not None
        host, port = spec.address.split(":")
        assert services[host]["environment"]["WEIR_CODESERVER_PORT"] == port, spec.name
    assert {s.name for s in specs} == {"quickstart", "node", "celery"}


def test_compose_runs_celery_workers_for_the_celery_location_without_a_database():
    services = compose()["services"]
    worker, location = services["celery-worker"], services["location-celery"]
    assert location["build"]["target"] == "celery"
    assert location["build"]["args"]["EXTRAS"] == "--extra celery"
    assert worker["entrypoint"] == ["python", "-m", "weir_codeserver.celery"]
    command = worker["command"]
    assert command[:3] == ["worker", "-f", "/app/celery/defs.py"]
    broker = command[command.index("--broker") + 1]
    # The workers and the location's run workers meet on the compose file's Redis.
    assert broker == location["environment"]["WEIR_CELERY_BROKER"] == "redis://redis:6379/0"
    assert broker.split("//")[1].split(":")[0] in services
    assert not any("DATABASE" in key for key in worker["environment"])
    assert worker["volumes"] == location["volumes"]  # the I/O manager's shared folder
    # The defs file the command names is the one the image's celery stage copies.
    dockerfile = (ROOT / location["build"]["dockerfile"]).read_text()
    assert "examples/celery/defs.py /app/celery/defs.py" in dockerfile
    assert "celery_executor" in (ROOT / "examples" / "celery" / "defs.py").read_text()


# --- Kubernetes -----------------------------------------------------------------------------


def test_rendered_manifests_are_valid_kubernetes():
    values = example_values()
    manifests = render.render(values)
    assert render.check(manifests, values["kubernetesVersion"]) == []
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "Job", "ConfigMap", "Role", "RoleBinding"} <= kinds


def test_the_validation_catches_an_invalid_resource():
    manifests = render.render(example_values())
    broken = copy.deepcopy(manifests)
    deployment = by_kind(broken, "Deployment")["weir-controlplane"]
    deployment["spec"]["replicas"] = "two"
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpcc"] = {}
    problems = render.check(broken, "1.33")
    assert len(problems) == 1 and problems[0].startswith("Deployment/weir-controlplane")


def test_control_plane_replicas_probe_grpc_health_and_daemons_run_apart():
    manifests = render.render(example_values())
    deployments = by_kind(manifests, "Deployment")
    plane = deployments["weir-controlplane"]
    assert plane["spec"]["replicas"] == 2
    container = plane["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": 4000}
    assert "--no-daemons" in container["args"]
    assert deployments["weir-daemon"]["spec"]["template"]["spec"]["containers"][0]["args"][0] == (
        "daemon"
    )
    database = container["env"][0]
    assert database["name"] == "WEIR_DATABASE_URL"
    assert database["valueFrom"]["secretKeyRef"] == {"name": "weir-database", "key": "url"}
    assert "--reporting-address=weir-controlplane.weir.svc:4000" in container["args"]


def test_one_deployment_and_service_per_location_and_the_workspace_points_at_them():
    values = example_values()
    manifests = render.render(values, "app")
    deployments, services = by_kind(manifests, "Deployment"), by_kind(manifests, "Service")
    workspace = yaml.safe_load(
        by_kind(manifests, "ConfigMap")["weir-workspace"]["data"]["weir.yaml"]
    )
    for entry in workspace["locations"]:
        host, port = entry["address"].split(":")
        assert host in deployments and services[host]["spec"]["ports"][0]["port"] == int(port)
    assert [e["name"] for e in workspace["locations"]] == ["quickstart", "node", "celery"]
    # The control plane's own parser accepts the launcher section the renderer wrote.
    launcher = parse_run_launcher(workspace["run_launcher"], "weir.yaml")
    assert launcher is not None and set(launcher.locations) == {"quickstart"}
    assert launcher.locations["quickstart"].image == values["locations"][0]["image"]
    assert launcher.service_account == "weir-run" and launcher.namespace == "weir"
    role = by_kind(manifests, "Role")["weir-run-launcher"]
    assert {"create", "get", "delete"} == set(role["rules"][0]["verbs"])


def test_a_location_with_a_celery_worker_gets_a_worker_deployment_without_a_database():
    values = example_values()
    deployments = by_kind(render.render(values, "app"), "Deployment")
    worker = deployments["weir-celery-celery"]
    assert worker["spec"]["replicas"] == 2
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == values["locations"][2]["image"]
    assert container["command"] == ["python", "-m", "weir_codeserver.celery"]
    assert container["args"][:3] == ["worker", "-f", "/app/celery/defs.py"]
    broker = values["locations"][2]["celeryWorker"]["broker"]
    assert container["args"][container["args"].index("--broker") + 1] == broker
    assert all(e["name"] != "WEIR_DATABASE_URL" for e in container["env"])
    assert "inspect ping" in container["livenessProbe"]["exec"]["command"][-1]
    location = deployments["weir-location-celery"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "WEIR_CELERY_BROKER", "value": broker} in location["env"]
    # Locations without one get no workers.
    assert "weir-celery-quickstart" not in deployments


def test_no_run_jobs_no_job_permissions():
    values = example_values()
    for location in values["locations"]:
        location.pop("runJobs", None)
    manifests = render.render(values)
    assert "Role" not in {m["kind"] for m in manifests}
    workspace = by_kind(manifests, "ConfigMap")["weir-workspace"]["data"]["weir.yaml"]
    assert "run_launcher" not in yaml.safe_load(workspace)


def test_the_migration_job_is_its_own_part_and_named_after_the_image():
    values = example_values()
    (job,) = render.render(values, "migrate")
    assert job["kind"] == "Job"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["admin", "migrate"]
    assert "Job" not in {m["kind"] for m in render.render(values, "app")}
    upgraded = {**values, "image": "registry.example.com/weir/controlplane:0.2.0"}
    (next_job,) = render.render(upgraded, "migrate")
    assert next_job["metadata"]["name"] != job["metadata"]["name"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v: v.pop("namespace"), "namespace is required"),
        (lambda v: v["locations"][0].pop("jobCommand"), "runJobs needs a jobCommand"),
        (lambda v: v["locations"][1].update(name="QuickStart"), "two names map to one"),
        (lambda v: v["locations"][0].pop("port"), r"locations\[0\]\.port is required"),
        (lambda v: v["locations"][2]["celeryWorker"].pop("broker"), "needs a broker URL"),
    ],
)
def test_bad_values_say_what_to_fix(change, message):
    values = example_values()
    change(values)
    with pytest.raises(render.ValuesError, match=message):
        render.render(values)


def test_render_cli_prints_documents_and_checks(tmp_path):
    values = DEPLOY / "kubernetes" / "values.yaml"
    out = subprocess.run(
        [sys.executable, DEPLOY / "kubernetes" / "render.py", values, "--part", "app"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert len(list(yaml.safe_load_all(out))) == len(render.render(example_values(), "app"))
    bad = tmp_path / "values.yaml"
    bad.write_text("locations: []\n")
    result = subprocess.run(
        [sys.executable, DEPLOY / "kubernetes" / "render.py", bad, "--check"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and "namespace is required" in result.stderr


def test_the_migration_jobs_command_brings_a_new_database_to_head(tmp_path):
    import sqlalchemy as sa
    from weir_controlplane.storage.migrations import head_revision

    url = f"sqlite:///{tmp_path / 'weir.db'}"
    result = subprocess.run(
        [BIN / "weir", "admin", "migrate", "--database-url", url],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    engine.dispose()
    unreachable = subprocess.run(
        [BIN / "weir", "admin", "migrate", "--database-url",
         "postgresql+psycopg://weir@127.0.0.1:1/weir"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert unreachable.returncode == 1 and "Cannot reach the database" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
