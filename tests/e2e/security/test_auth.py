"""Auth end to end, with real processes: `weir controlplane` requires tokens by default,
`weir admin bootstrap` makes the first, the CLI sends them, run workers report with the
run tokens the launcher minted, and no secret shows up in any output.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import BIN, LOCATIONS, ON_BOTH_DATABASES, Api, free_port

# A secret as auth/secrets.py makes them: the prefix and 43 URL-safe characters.
SECRET = re.compile(r"weir_[A-Za-z0-9_\-]{43}")


def weir(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "weir"), *args], env=env, capture_output=True, text=True, timeout=60
    )


@ON_BOTH_DATABASES
def test_tokens_guard_the_api_and_runs_report_with_their_own(
    start_control_plane: Callable[..., Any], e2e_env: dict[str, str], database: str | None
) -> None:
    location = {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}
    plane = start_control_plane([location], auth=True, verbose=True)
    on_database = ["--database-url", database] if database else []
    bootstrap = weir(e2e_env, "admin", "bootstrap", *on_database)
    assert bootstrap.returncode == 0, bootstrap.stderr
    admin_secret = bootstrap.stdout.strip().splitlines()[-1]
    assert SECRET.fullmatch(admin_secret), bootstrap.stdout
    url = f"http://127.0.0.1:{plane.http_port}"
    cli = {**e2e_env, "WEIR_URL": url}

    refused = weir(cli, "runs", "list")
    assert refused.returncode == 1 and "unauthenticated" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

    signed_in = {**cli, "WEIR_TOKEN": admin_secret}
    viewer = weir(signed_in, "tokens", "create", "--role", "viewer", "--name", "dashboard")
    assert viewer.returncode == 0, viewer.stderr
    viewer_secret = viewer.stdout.strip().splitlines()[-1]
    as_viewer = {**cli, "WEIR_TOKEN": viewer_secret}
    denied = weir(as_viewer, "runs", "launch", "--select", "raw")
    assert denied.returncode == 1 and "permission_denied" in denied.stderr, denied.stderr

    launched = weir(signed_in, "runs", "launch", "--select", "raw")
    assert launched.returncode == 0, launched.stderr
    run_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", launched.stdout)
    assert run_id is not None, launched.stdout
    api = Api(plane.http_port, token=viewer_secret)
    # The worker's events arrive only with its run token: a SUCCESS proves it worked.
    run = api.wait_status(run_id.group(0), "SUCCESS", "FAILURE")
    api.http.close()
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    listed = weir(as_viewer, "tokens", "list")
    assert listed.returncode == 1 and "permission_denied" in listed.stderr

    branch = weir(
        signed_in, "deployments", "create", "pr-7", "--base", "prod", "--expires-in", "3600"
    )
    assert branch.returncode == 0, branch.stderr
    deployments = weir(signed_in, "deployments", "list")
    assert "pr-7" in deployments.stdout and "prod" in deployments.stdout
    # The viewer of prod holds no role in pr-7: it sees only prod.
    assert "pr-7" not in weir(as_viewer, "deployments", "list").stdout
    in_branch = weir({**as_viewer, "WEIR_DEPLOYMENT": "pr-7"}, "runs", "list")
    assert in_branch.returncode == 1 and "permission_denied" in in_branch.stderr

    assert weir(signed_in, "tokens", "revoke", "tok_" + "0" * 16).returncode == 1
    token_id = re.search(r"tok_[0-9a-f]{16}", viewer.stdout)
    assert token_id is not None
    assert weir(signed_in, "tokens", "revoke", token_id.group(0)).returncode == 0
    revoked = weir(as_viewer, "runs", "list")
    assert revoked.returncode == 1 and "revoked" in revoked.stderr

    plane.stop()
    assert plane.process is not None
    output = plane.process.log()
    leaked = SECRET.findall(output)
    assert leaked == [], "a token secret appears in the control plane's or a worker's output"
    home_files = [
        path.read_text(errors="replace")
        for path in Path(e2e_env["WEIR_HOME"]).rglob("*")
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm")
    ]
    assert SECRET.findall("\n".join(home_files)) == []


def test_run_workers_see_no_database_url_and_no_user_token(
    start_control_plane: Callable[..., Any], e2e_env: dict[str, str], control_dir: Path
) -> None:
    database_url = f"sqlite:///{e2e_env['WEIR_HOME']}/weir.db"
    location = {"name": "probe", "python_file": str(LOCATIONS / "env_probe.py")}
    token = "weir_" + "x" * 43  # what an operator might leave in the control plane's env
    e2e_env.update(WEIR_DATABASE_URL=database_url, WEIR_TOKEN=token)
    plane = start_control_plane([location])
    api = Api(plane.http_port)
    run = api.wait_status(api.launch("env_probe"), "SUCCESS", "FAILURE")
    api.http.close()
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    seen = json.loads((control_dir / "worker_env.json").read_text())
    assert "WEIR_DATABASE_URL" not in seen and "WEIR_TOKEN" not in seen
    assert database_url not in json.dumps(seen) and token not in json.dumps(seen)


def test_no_auth_beyond_loopback_is_refused_at_start(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    defs = str(LOCATIONS / "pipeline.py")
    ports = ["--grpc-port", str(free_port()), "--http-port", str(free_port())]
    for args in (
        ["dev", "-f", defs, "--host", "0.0.0.0", *ports],
        ["dev", "-f", defs, "--host", "0.0.0.0", "--no-auth", *ports],
        ["controlplane", "--host", "0.0.0.0", "--no-auth", *ports],
    ):
        refused = weir(e2e_env, *args)
        assert refused.returncode == 1, (args, refused.stdout)
        message = refused.stderr.strip()
        assert "\n" not in message and "--auth" in message and "127.0.0.1" in message, message
