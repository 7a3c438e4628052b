"""End to end: steps on real `weir celery worker` processes over the real Redis (and
RabbitMQ where it listens), through `weir controlplane`, a code server and its run worker.

Each test has its own queues and broker key prefix. Workers are started fresh where a
test needs a second chance at a step, never left to broker redelivery.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import BIN, LOCATIONS, Api, Process
from weir._execution.launcher import launch_key
from weir_codeserver.celery.app import make_app

LOCATION = {"name": "celery", "python_file": str(LOCATIONS / "celery_steps.py")}
REDIS_ENV = "WEIR_TEST_REDIS_URL"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _listening(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1):
            return True
    except OSError:
        return False


def _redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set; the Celery tests need a Redis server")
    if not _listening(url):
        pytest.skip(f"nothing listens at {REDIS_ENV}={url}")
    return url


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        return _redis_url()
    if not _listening(RABBITMQ_URL):
        pytest.skip("no RabbitMQ at 127.0.0.1:5672 on this machine")
    return RABBITMQ_URL


@pytest.fixture
def redis_broker() -> str:
    return _redis_url()


@pytest.fixture
def celery_env(e2e_env: dict[str, str]) -> Iterator[dict[str, str]]:
    prefix = f"weir-test-{uuid.uuid4().hex[:10]}"
    e2e_env["WEIR_TEST_CELERY_PREFIX"] = prefix
    yield e2e_env
    url = os.environ.get(REDIS_ENV)
    if url and _listening(url):  # leave the shared Redis database as it was
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*", count=1000):
            client.delete(key)
        client.close()


@pytest.fixture
def start_worker(celery_env: dict[str, str]) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(*queues: str, env: dict[str, str] | None = None) -> Process:
        prefix = celery_env["WEIR_TEST_CELERY_PREFIX"]
        names = ",".join(f"{prefix}-{q}" if q else prefix for q in queues or ("",))
        args = [
            str(BIN / "weir"), "celery", "worker", "-f", LOCATION["python_file"], "-Q", names,
            "-c", "1", "-n", f"w{len(started)}-{prefix}@%h", "-l", "WARNING",
        ]  # fmt: skip
        process = Process(args, env or celery_env, r"WEIR_CELERY_WORKER_READY")
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        print(f"--- {' '.join(process.args)}\n{process.log()}")  # shown when a test fails


@pytest.fixture
def plane(start_control_plane, celery_env: dict[str, str], request: pytest.FixtureRequest):
    """The control plane with the celery location, on the test's broker."""

    def start(broker_url: str) -> Api:
        celery_env["WEIR_TEST_CELERY_BROKER"] = broker_url
        return start_control_plane([LOCATION]).api

    return start


def _steps(api: Api, run_id: str, event_type: str) -> Counter[str]:
    return Counter(
        e.get("stepKey", "")
        for e in api.events(run_id)
        if e.get("eventType") == f"RUN_EVENT_TYPE_{event_type}"
    )


def test_a_fan_out_runs_over_two_workers_and_stores_each_steps_events_once(
    plane, start_worker, broker, control_dir
):
    api = plane(broker)
    start_worker()
    start_worker()
    run_id = api.launch("root+")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=90)
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    expected = {"root", *(f"leaf_{i}" for i in range(50))}
    assert _steps(api, run_id, "STEP_SUCCESS") == Counter(expected)
    assert _steps(api, run_id, "STEP_START") == Counter(expected)
    assert sum(_steps(api, run_id, "ASSET_MATERIALIZATION").values()) == 51
    # Each leaf read root's value through the I/O manager, on whichever worker it ran.
    leaf = api("GetAsset", key={"path": ["leaf_7"]})["asset"]
    assert leaf["latestMaterialization"]
    assert json.loads((control_dir / "io" / "leaf_7.json").read_text()) == 8


def _held_pid(control: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = list(control.glob("held.*.pid"))
        if pids:
            return int(pids[0].read_text())
        time.sleep(0.02)
    raise AssertionError("the held step never started")


@pytest.mark.parametrize("what", ["worker", "pool child"])
def test_a_killed_worker_s_step_is_retried_on_the_other_worker(
    plane, start_worker, redis_broker, control_dir, what
):
    api = plane(redis_broker)
    first = start_worker()
    run_id = api.launch("held after_held")
    child = _held_pid(control_dir)
    second = start_worker()
    (control_dir / "held.release").touch()  # the retry runs straight through
    if what == "worker":
        os.killpg(first.proc.pid, signal.SIGKILL)  # the whole machine, as it were
    else:
        os.kill(child, signal.SIGKILL)
        first.stop()  # so the retry can only land on the other worker
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    events = api.events(run_id)
    retries = [e for e in events if e["eventType"] == "RUN_EVENT_TYPE_STEP_UP_FOR_RETRY"]
    assert len(retries) == 1 and "was lost" in retries[0]["message"], retries
    assert _steps(api, run_id, "STEP_SUCCESS") == Counter({"held": 1, "after_held": 1})
    assert second.proc.poll() is None


def test_a_redelivered_copy_of_a_lost_attempt_is_refused_at_its_claim(
    plane, start_worker, redis_broker, control_dir, celery_env
):
    celery_env["WEIR_TEST_CELERY_VISIBILITY"] = "2"  # Redis re-delivers after 2 s unacked
    api = plane(redis_broker)
    first = start_worker()
    run_id = api.launch("held")
    _held_pid(control_dir)
    os.killpg(first.proc.pid, signal.SIGKILL)  # its task stays unacked in Redis
    (control_dir / "held.release").touch()
    second = start_worker()  # a fresh worker's first poll restores the unacked copy
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    deadline = time.monotonic() + 30
    while not any("refused:" in line for line in second.output):
        assert time.monotonic() < deadline, second.log()
        time.sleep(0.05)
    refusal = next(line for line in second.output if "refused:" in line)
    # Refused as ended or superseded, or, when the copy comes back before the dead worker's
    # lease runs out, as still claimed by it: a typed refusal of attempt 1 either way.
    refused_as = ("ATTEMPT_ENDED", "SUPERSEDED", "ALREADY_CLAIMED")
    assert any(f"-1: CLAIM_REFUSAL_{why}" in refusal for why in refused_as), refusal
    # Attempt 1 started and was lost, attempt 2 succeeded; the copy stored nothing.
    assert _steps(api, run_id, "STEP_START") == Counter({"held": 2})
    assert _steps(api, run_id, "STEP_SUCCESS") == Counter({"held": 1})


def test_routed_steps_go_only_to_their_queue_s_worker(
    plane, start_worker, redis_broker, control_dir
):
    api = plane(redis_broker)
    start_worker()  # the default queue only
    special = start_worker("special")
    run_id = api.launch("routed")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    # `routed` returned its process's pid: a pool child of the special queue's worker.
    pid = int(json.loads((control_dir / "io" / "routed.json").read_text()))
    assert _parent_of(pid) == special.proc.pid


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_a_canceled_run_revokes_its_pending_steps_and_stops_its_running_ones(
    plane, start_worker, redis_broker, control_dir
):
    api = plane(redis_broker)
    worker = start_worker()
    run_id = api.launch("slow unserved")
    # `unserved` waits on a queue no worker consumes, and the run says so.
    deadline = time.monotonic() + 30
    while not (_unserved_notices(api, run_id) and (control_dir / "slow.started").exists()):
        assert time.monotonic() < deadline, api.events(run_id)
        time.sleep(0.05)

    api("CancelRun", runId=run_id)
    run = api.wait_status(run_id, "CANCELED", "FAILURE", "SUCCESS", timeout=30)
    assert run["status"] == "RUN_STATUS_CANCELED", api.events(run_id)
    # The running step was stopped (it waits forever otherwise) and says why; the
    # pending one never started. The worker itself lives on.
    failures = [e for e in api.events(run_id) if e["eventType"] == "RUN_EVENT_TYPE_STEP_FAILURE"]
    assert [e["stepKey"] for e in failures] == ["slow"]
    assert "canceled" in failures[0]["message"]
    assert _steps(api, run_id, "STEP_START") == Counter({"slow": 1})
    assert _steps(api, run_id, "STEP_SKIPPED") == Counter({"unserved": 1})
    assert worker.proc.poll() is None
    # A worker for the pending step's queue, started now, is refused it: nothing runs.
    late = start_worker("unserved")
    time.sleep(1.0)  # a refused claim leaves no event to wait on; give it the chance
    assert _steps(api, run_id, "STEP_START") == Counter({"slow": 1})
    assert late.proc.poll() is None


def _unserved_notices(api: Api, run_id: str) -> list[str]:
    return [
        e["message"]
        for e in api.events(run_id)
        if e["eventType"] == "RUN_EVENT_TYPE_ENGINE"
        and "No Celery worker serves queue" in e["message"]
        and "-unserved" in e["message"]
    ]


def test_a_worker_without_database_access_runs_steps(plane, start_worker, redis_broker, celery_env):
    api = plane(redis_broker)
    # No $WEIR_HOME and a database URL that leads nowhere: the worker never needs one.
    env = {k: v for k, v in celery_env.items() if k != "WEIR_HOME"}
    env["WEIR_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    start_worker(env=env)
    run_id = api.launch("root leaf_1")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    assert _steps(api, run_id, "STEP_SUCCESS") == Counter({"root": 1, "leaf_1": 1})


def test_a_step_no_worker_claims_is_retried_then_fails_naming_its_queue(
    plane, start_worker, redis_broker, celery_env
):
    celery_env["WEIR_TEST_CELERY_QUEUED_TIMEOUT"] = "1.5"
    prefix = celery_env["WEIR_TEST_CELERY_PREFIX"]
    api = plane(redis_broker)
    start_worker()  # the default queue only: `stranded` goes to one no worker consumes
    run_id = api.launch("stranded")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_FAILURE", api.events(run_id)
    reason = f"no worker served queue '{prefix}-nobody': step stranded"
    events = api.events(run_id)
    retries = [e for e in events if e["eventType"] == "RUN_EVENT_TYPE_STEP_UP_FOR_RETRY"]
    assert len(retries) == 1 and f"{reason} (attempt 1) waited 1.5 s" in retries[0]["message"]
    failures = [e for e in events if e["eventType"] == "RUN_EVENT_TYPE_STEP_FAILURE"]
    assert [e["stepKey"] for e in failures] == ["stranded"]
    assert f"{reason} (attempt 2)" in failures[0]["message"], failures
    assert _steps(api, run_id, "STEP_START") == Counter()
    # Both tasks were revoked: the live worker (of another queue) holds their ids.
    keys = {launch_key(run_id, "stranded", attempt) for attempt in (1, 2)}
    app = make_app(
        {"broker": redis_broker, "default_queue": prefix,
         "config_source": {"broker_transport_options": {"global_keyprefix": prefix + ":"}}}
    )  # fmt: skip
    try:
        revoked = app.control.inspect(timeout=2.0).revoked() or {}
    finally:
        app.close()
    assert keys <= {key for ids in revoked.values() for key in ids}, revoked
    # A worker for that queue, started now, finds both tasks and is refused each.
    late = start_worker("nobody")
    deadline = time.monotonic() + 30
    while sum("refused:" in line for line in late.output) < 2:
        assert time.monotonic() < deadline, late.log()
        time.sleep(0.05)
    assert _steps(api, run_id, "STEP_START") == Counter()


def test_a_step_waiting_behind_a_busy_worker_is_not_timed_out(
    plane, start_worker, redis_broker, celery_env, control_dir
):
    # Longer than a fresh worker may take to claim its first task on a loaded machine:
    # the queue shows no life before that claim.
    celery_env["WEIR_TEST_CELERY_QUEUED_TIMEOUT"] = "5.0"
    api = plane(redis_broker)
    start_worker()  # one worker process: a second step waits for it in the queue
    busy = api.launch("slow")
    deadline = time.monotonic() + 30
    while not (control_dir / "slow.started").exists():
        assert time.monotonic() < deadline, api.events(busy)
        time.sleep(0.05)
    waiting = api.launch("root")
    api.wait_event(waiting, "ENGINE", timeout=30)  # its run has begun launching steps
    time.sleep(11.0)  # two queued timeouts, the queue's worker busy all along
    assert api.run(waiting)["status"] not in ("RUN_STATUS_FAILURE", "RUN_STATUS_SUCCESS")
    assert _steps(api, waiting, "STEP_START") == Counter()
    (control_dir / "slow.release").touch()
    for run_id in (busy, waiting):
        run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
        assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    assert not any(
        e["eventType"] == "RUN_EVENT_TYPE_STEP_UP_FOR_RETRY" for e in api.events(waiting)
    )
