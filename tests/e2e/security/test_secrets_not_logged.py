"""Secrets never logged: the database URL's password (the one secret a control plane holds
today) appears in no output of any process of a run, no event, no API reply, no file
under $WEIR_HOME, and not in the error a control plane gives when its database cannot
be reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import BIN, LOCATIONS, POSTGRES_URL_ENV, free_port, write_workspace
from sqlalchemy.engine import URL, make_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def password() -> str:
    return f"S3cretPassw0rd-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def secret_url(password: str) -> Iterator[URL]:
    """The shared server's URL with a password (trust auth accepts any) and a fresh schema."""
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; the test needs a PostgreSQL server")
    schema = f"weir_secret_{uuid.uuid4().hex[:12]}"
    url = make_url(base).set(drivername="postgresql+psycopg", password=password)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_the_database_password_appears_in_no_log_event_or_reply(
    start_control_plane: Callable[..., Any],
    secret_url: URL,
    password: str,
    control_dir: Path,
    e2e_env: dict[str, str],
    tmp_path: Path,
):
    location = {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}
    plane = start_control_plane(
        [location], database_url=secret_url.render_as_string(hide_password=False), verbose=True
    )
    api = plane.api
    succeeded = api.launch("raw")
    assert api.wait_status(succeeded, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    (control_dir / "fragile.fail").touch()
    failed = api.launch("fragile")
    assert api.wait_status(failed, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_FAILURE"

    replies = [
        api("GetRun", runId=succeeded),
        api("GetRun", runId=failed),
        api("ListRuns"),
        api("ListCodeLocations"),
        api("ListAssets"),
        {"events": api.events(succeeded) + api.events(failed)},
    ]
    plane.stop()  # its output up to exit, the code server's and the workers' included

    # A second control plane whose database is not there: a clear one-line error.
    closed = secret_url.set(port=free_port()).render_as_string(hide_password=False)
    workspace = write_workspace(tmp_path / "other.yaml", [location])
    refused = subprocess.run(
        [str(BIN / "weir"), "controlplane", "-w", str(workspace), "--database-url", closed,
         "--grpc-port", str(free_port()), "--http-port", str(free_port())],
        env=e2e_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0
    error = refused.stderr.strip()
    assert "\n" not in error and "Traceback" not in error, error
    assert "database" in error and f"{secret_url.host}" in error, error

    # A URL that does not parse: SQLAlchemy's own message would quote it whole.
    malformed = f"postgresql://{secret_url.username}:{password}@{secret_url.host}:no-port/test"
    unparsed = subprocess.run(
        [str(BIN / "weir"), "controlplane", "-w", str(workspace), "--database-url", malformed],
        env=e2e_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unparsed.returncode != 0
    assert unparsed.stderr.strip().startswith("error: --database-url:"), unparsed.stderr

    assert plane.process is not None
    home_files = [
        path.read_text(errors="replace") for path in Path(e2e_env["WEIR_HOME"]).rglob("*")
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm")
    ]  # fmt: skip
    logs = {
        "control plane, code server and workers": plane.process.log(),
        "API replies and run events": json.dumps(replies),
        "refused control plane": refused.stdout + refused.stderr,
        "control plane given a malformed URL": unparsed.stdout + unparsed.stderr,
        "files under WEIR_HOME": "\n".join(home_files),
    }
    assert "RUN_EVENT_TYPE_STEP_FAILURE" in logs["API replies and run events"]
    assert "fragile asset divided by zero" in logs["API replies and run events"]
    for where, text in logs.items():
        assert password not in text, f"the database password appears in the {where}"
