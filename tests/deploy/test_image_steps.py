"""The images' build steps, run outside Docker (this machine has no daemon).

A small interpreter walks each Dockerfile in deploy/docker/: ENV, WORKDIR and COPY into a
scratch root that stands for the image's filesystem, and every RUN step as written, except
the few that change the machine itself (creating a system user, installing the pinned uv,
which the workspace already has at that version). Then it starts the image's ENTRYPOINT and
CMD from that root and runs its HEALTHCHECK command, which must see grpc.health.v1 SERVING.
A RUN step this file does not know fails the test, so a new step is never skipped unseen.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
BIN = Path(sys.executable).parent
IGNORED = shutil.ignore_patterns("node_modules", "__pycache__", ".venv", "*.pyc")


def pinned_uv() -> str:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    return next(d for d in dev if d.startswith("uv==")).removeprefix("uv==")


# Steps that change the machine rather than the image's files, and why they may be skipped.
SKIPPED = {
    re.compile(r"^useradd --system --uid 10001\b"): "creates the image's system user",
    re.compile(rf"^pip install --no-cache-dir uv=={re.escape(pinned_uv())}$"): (
        "the workspace's own uv, at the version pyproject.toml pins"
    ),
}


@dataclass
class Image:
    """The scratch root of one Dockerfile target, and what it says to run."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)  # ARG, as `--build-arg` sets

    def path(self, inside: str) -> Path:
        """Where a path of the image lives in the scratch root."""
        base = Path("/") if inside.startswith("/") else (self.workdir or Path("/"))
        return self.root / (base / inside).relative_to("/")

    def word(self, word: str) -> str:
        return str(self.path(word)) if word.startswith("/") else word

    def run_env(self) -> dict[str, str]:
        # The machine's PATH after the image's: `uv`, `node`, `npm` as this workspace has them.
        env = {**os.environ, **self.env}
        env["PATH"] = f"{self.env.get('PATH', '')}:{BIN}:{os.environ['PATH']}"
        env.pop("VIRTUAL_ENV", None)
        env["UV_PYTHON"] = sys._base_executable  # the image's python:3.11 stands here for it
        return env


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def build(
    dockerfile: Path,
    root: Path,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
) -> Image:
    """Walk every stage in order into one scratch root; the last stage (or `target`, as
    `--target` picks it) is the image. A later stage inherits what an earlier one set, as
    one built FROM it does."""
    image = Image(root)
    given = build_args or {}
    stage = None
    for instruction, rest in instructions(dockerfile):
        if instruction == "FROM":
            if target is not None and stage == target:
                break  # the stages after the target are not part of its image
            stage = rest.split()[-1] if " AS " in rest.upper() else None
        if instruction == "ARG":
            key, _, default = rest.partition("=")
            image.build_args[key] = given.get(key, shlex.split(default)[0] if default else "")
        elif instruction == "ENV":
            for pair in shlex.split(rest):
                key, value = pair.split("=", 1)
                parts = [image.word(p) if p.startswith("/") else p for p in value.split(":")]
                image.env[key] = ":".join(parts).replace(":$PATH", "")
        elif instruction == "WORKDIR":
            image.workdir = Path(rest)
            image.path(rest).mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            _copy(image, shlex.split(rest))
        elif instruction == "RUN":
            _run(image, rest)
        elif instruction == "ENTRYPOINT":
            image.entrypoint = json.loads(rest)
        elif instruction == "CMD":
            image.cmd = json.loads(rest)
        elif instruction == "HEALTHCHECK":
            image.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
        elif instruction not in ("FROM", "USER", "EXPOSE", "LABEL"):
            raise AssertionError(f"{dockerfile.name}: no rule here for {instruction}")
    return image


def _copy(image: Image, words: list[str]) -> None:
    flags = [w for w in words if w.startswith("--")]
    *sources, dest = [w for w in words if not w.startswith("--")]
    from_stage = any(f.startswith("--from=") for f in flags)
    target = image.path(dest)
    for source in sources:
        # Within one scratch root, a stage's files are where a later stage copies them from.
        matches = (
            [image.path(source)] if from_stage else [Path(p) for p in glob.glob(str(ROOT / source))]
        )
        assert matches, f"COPY {source}: nothing there"
        for match in matches:
            into = target / match.name if dest.endswith("/") and match.is_file() else target
            if match.resolve() == into.resolve():
                continue
            if match.is_dir():
                shutil.copytree(match, into, ignore=IGNORED, dirs_exist_ok=True)
            else:
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(match, into)


def _run(image: Image, command: str) -> None:
    steps = []
    for step in (s.strip() for s in command.split("&&")):
        reason = next((why for rule, why in SKIPPED.items() if rule.search(step)), None)
        if reason is None:
            steps.append(step)
        else:
            image.skipped.append(f"{step}  ({reason})")
    if not steps:
        return
    cwd = image.path(str(image.workdir or "/"))
    # A build argument is in a RUN step's environment, as in a Docker build.
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", " && ".join(steps)],
        cwd=cwd, env={**image.run_env(), **image.build_args}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"RUN {command}\n{result.stdout}\n{result.stderr}"


def serve_and_check_health(image: Image, args: list[str], port: int, ready: str) -> str:
    """Start the image's command; once it says `ready`, run its HEALTHCHECK on `port`."""
    command = [image.word(w) for w in args]
    env = image.run_env()
    log = image.root / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=image.path(str(image.workdir or "/")), env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while ready not in log.read_text():
            assert server.poll() is None, f"{command} exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{command} never ready:\n{log.read_text()}"
            time.sleep(0.1)
        check = [image.word(w) for w in image.healthcheck]
        check = [re.sub(r":\d+$", f":{port}", w) for w in check]  # the port this test chose
        result = subprocess.run(
            check, cwd=image.path(str(image.workdir or "/")), env=env, capture_output=True,
            text=True, timeout=30,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr + log.read_text()
        return result.stdout
    finally:
        server.terminate()
        server.wait(30)


def python_of(image: Image) -> str:
    return str(image.path("/opt/weir/bin/python"))


def imports(image: Image, module: str) -> bool:
    inside = f"{module}.__file__.startswith({str(image.root)!r})"
    code = f"import {module}, sys; sys.exit(0 if {inside} else 3)"
    result = subprocess.run(
        [python_of(image), "-c", code], env=image.run_env(), capture_output=True
    )
    assert result.returncode in (0, 1, 3), result.stderr
    assert result.returncode != 3, f"{module} is not installed in the image, but found outside it"
    return result.returncode == 0


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return build(DOCKER / "controlplane.Dockerfile", tmp_path_factory.mktemp("controlplane"))


@pytest.fixture(scope="module")
def codelocation(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return build(DOCKER / "codelocation.Dockerfile", tmp_path_factory.mktemp("codelocation"))


def test_control_plane_image_serves_and_is_healthy(controlplane):
    image = controlplane
    assert len(image.skipped) == 2, image.skipped  # useradd, pip install uv
    # Installed as packages, not editable: the runtime stage needs nothing from /src.
    assert imports(image, "weir_controlplane")
    assert not imports(image, "weir"), "the control plane must not install the SDK"
    assert not imports(image, "kubernetes"), "the Kubernetes client is opt-in (EXTRAS)"
    workspace = image.path("/etc/weir/weir.yaml")
    workspace.parent.mkdir(parents=True, exist_ok=True)
    workspace.write_text("locations: []\n")
    grpc_port = free_port()
    ports = ["--grpc-port", str(grpc_port), "--http-port", str(free_port())]
    args = [*image.entrypoint, *image.cmd, *ports]
    out = serve_and_check_health(image, args, grpc_port, "WEIR_CONTROLPLANE_READY")
    assert "SERVING" in out
    assert image.path("/var/lib/weir").exists()  # $WEIR_HOME: where SQLite went by default


def test_control_plane_image_for_kubernetes_has_the_client(tmp_path):
    extras = {"EXTRAS": "--extra kubernetes"}
    image = build(DOCKER / "controlplane.Dockerfile", tmp_path, extras)
    assert imports(image, "kubernetes") and imports(image, "weir_controlplane")
    launcher = "from weir_controlplane.runs.kubernetes import KubernetesRunLauncher"
    result = subprocess.run([python_of(image), "-c", launcher], env=image.run_env())
    assert result.returncode == 0


def test_code_location_image_serves_the_quickstart_and_runs_jobs(codelocation):
    image = codelocation
    assert imports(image, "weir_codeserver") and imports(image, "weir")
    assert not imports(image, "weir_controlplane"), "user code must not get the control plane"
    port = free_port()
    image.env["WEIR_CODESERVER_PORT"] = str(port)
    args = [*image.entrypoint, *image.cmd]
    out = serve_and_check_health(image, args, port, "WEIR_CODESERVER_READY")
    assert "SERVING" in out
    # The Kubernetes launcher's Job command exists in the image.
    result = subprocess.run(
        [python_of(image), "-m", "weir_codeserver.job_main", "--help"],
        env=image.run_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0 and "--request-file" in result.stdout


def test_node_location_image_serves_and_is_healthy(tmp_path):
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the Node location's build steps")
    image = build(DOCKER / "node-location.Dockerfile", tmp_path)
    assert image.path("/weir/examples/node-location/node_modules/@grpc/grpc-js").is_dir()
    assert image.path("/weir/protos/weir/v1/code_location.proto").is_file()
    port = free_port()
    image.env["WEIR_CODESERVER_PORT"] = str(port)
    args = [*image.entrypoint, *image.cmd]
    out = serve_and_check_health(image, args, port, "WEIR_CODESERVER_READY")
    assert "SERVING" in out


def compose_service(name: str) -> dict:
    import yaml

    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"][name]


def test_celery_image_serves_its_location_and_runs_compose_s_worker(tmp_path):
    """The `celery` stage as compose builds it; its worker service's command and health
    check, run from that image against the real Redis."""
    broker = os.environ.get("WEIR_TEST_REDIS_URL")
    if not broker:
        pytest.skip("WEIR_TEST_REDIS_URL is not set; the Celery worker needs a Redis broker")
    location, worker = compose_service("location-celery"), compose_service("celery-worker")
    assert worker["build"] == location["build"] and worker["image"] == location["image"]
    assert not any("DATABASE" in key for key in worker.get("environment", {}))
    image = build(
        DOCKER / "codelocation.Dockerfile", tmp_path, location["build"]["args"],
        target=location["build"]["target"],
    )  # fmt: skip
    assert imports(image, "celery") and imports(image, "weir_codeserver")
    assert not imports(image, "weir_controlplane")
    assert image.path("/opt/weir/bin/celery").exists()  # the health check's command
    compose_broker = location["environment"]["WEIR_CELERY_BROKER"]
    image.env["WEIR_CELERY_BROKER"] = broker
    port = free_port()
    image.env["WEIR_CODESERVER_PORT"] = str(port)
    out = serve_and_check_health(image, [*image.entrypoint, *image.cmd], port, "READY")
    assert "SERVING" in out

    # The worker service: compose's entrypoint and command, on this test's broker, with
    # a queue and node name of its own (the shared Redis serves other tests too).
    node = f"celery@weir-image-{os.getpid()}-{port}"
    command = [broker if w == compose_broker else w for w in worker["entrypoint"]]
    command += [broker if w == compose_broker else w for w in worker["command"]]
    command += ["-Q", f"weir-image-test-{port}", "-n", node]
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [image.word(w) for w in command], cwd=image.path("/app"), env=image.run_env(),
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "WEIR_CELERY_WORKER_READY" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        shell = worker["healthcheck"]["test"]
        assert shell[0] == "CMD-SHELL"
        check = shell[1].replace("$$", "$").replace(compose_broker, broker)
        env = {**image.run_env(), "HOSTNAME": node.removeprefix("celery@")}
        result = subprocess.run(
            ["bash", "-c", check], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and "pong" in result.stdout, result.stdout + result.stderr
        # Pointed at a node that does not exist, the same check fails.
        env["HOSTNAME"] = "nobody-here"
        missing = subprocess.run(
            ["bash", "-c", check], env=env, capture_output=True, text=True, timeout=60
        )
        assert missing.returncode != 0
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)
