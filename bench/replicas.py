"""Runs per second through 1, 2 and 3 control-plane replicas on PostgreSQL, and the takeover
after one is killed.

    .venv/bin/python bench/replicas.py                 # print the figures
    .venv/bin/python bench/replicas.py --write         # and put them in RESULTS.md
    .venv/bin/python bench/replicas.py --runs 60       # fewer runs per row

Each row starts N `weir controlplane` replicas on a fresh PostgreSQL schema
(`WEIR_BENCH_POSTGRES_URL`, else `WEIR_TEST_POSTGRES_URL`, else the local `test` database)
and one code server of zero-work assets that every replica lists by `address:`, launches
the runs over HTTP from client threads spread over the replicas, and times the first
launch to the last run's SUCCESS (read from the database). A SQLite row with one replica
is the reference. The takeover row starts two replicas with the default timings (member
heartbeats every second, a 5 s lease; run heartbeats every 2 s), kills with SIGKILL the
one that launched runs still in flight, and times the kill to a live replica taking it
over, and to every one of its in-flight runs heartbeating through the survivor.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

from bench.report import replace_kept_section, run_context_lines  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
LOCATION = ROOT / "bench" / "ha_location" / "zero_work.py"
BIN = Path(sys.executable).parent
CLIENTS = 6  # launching threads: enough that the client is not what limits the rate
LIMIT = 20  # --max-concurrent-runs
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A server process in its own group, ready once its output matches `ready`."""

    def __init__(self, args: list[str], env: dict[str, str], ready: str) -> None:
        self.proc = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.match: re.Match[str] | None = None
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in self.proc.stdout:
            self.match = re.search(ready, line)
            if self.match or time.monotonic() > deadline:
                break
        if self.match is None:
            self.stop()
            raise RuntimeError(f"{args[0]} did not become ready")
        # Keep reading so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def postgres_schema() -> Iterator[str]:
    base = (
        os.environ.get("WEIR_BENCH_POSTGRES_URL")
        or os.environ.get("WEIR_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"weir_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


class System:
    """A code server and N control-plane replicas on one database."""

    def __init__(self, home: Path, database_url: str, replicas: int, **flags: Any) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "WEIR_HOME": str(home / "data"),
            "PYTHONUNBUFFERED": "1",
            "WEIR_BENCH_HOLD": str(home / "held.hold"),
        }
        self.database_url = database_url
        self.codeserver = Child(
            [str(BIN / "weir-codeserver"), "-f", str(LOCATION), "--port", "0"],
            self.env,
            r"WEIR_CODESERVER_READY\s+port=(\d+)",
        )
        assert self.codeserver.match is not None
        workspace = home / "weir.yaml"
        workspace.write_text(
            f"locations:\n  - name: zero\n    address: 127.0.0.1:{self.codeserver.match.group(1)}\n"
        )
        self.planes: list[tuple[Child, int, int]] = []
        for _ in range(replicas):
            http_port, grpc_port = free_port(), free_port()
            args = [
                str(BIN / "weir"), "controlplane", "-w", str(workspace), "--no-auth",
                "--http-port", str(http_port), "--grpc-port", str(grpc_port),
                "--database-url", database_url, "--max-concurrent-runs", str(LIMIT),
            ]  # fmt: skip
            for flag, value in flags.items():
                args += [f"--{flag.replace('_', '-')}", str(value)]
            plane = Child(args, self.env, "WEIR_CONTROLPLANE_READY")
            self.planes.append((plane, http_port, grpc_port))
        self.engine = sa.create_engine(database_url)

    def clients(self) -> list[httpx.Client]:
        return [
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            for _, port, _ in self.planes
        ]

    def count(self, statuses: tuple[str, ...]) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(sa.table("runs", sa.column("status")))
                    .where(sa.column("status").in_(statuses))
                ).scalar_one()
            )

    def close(self) -> None:
        for plane, _, _ in self.planes:
            plane.stop()
        self.codeserver.stop()
        self.engine.dispose()


def launch(client: httpx.Client, selection: str) -> str:
    reply = client.post("/weir.v1.ControlPlaneService/LaunchRun", json={"selection": selection})
    reply.raise_for_status()
    return str(reply.json()["run"]["runId"])


def throughput(home: Path, database_url: str, replicas: int, runs: int) -> dict[str, Any]:
    system = System(home, database_url, replicas)
    try:
        clients = system.clients()
        for client in clients:  # warm every path once, outside the timing
            launch(client, "quick")
        while system.count(TERMINAL) < len(clients):
            time.sleep(0.05)
        started = time.perf_counter()
        share = [runs // CLIENTS + (1 if n < runs % CLIENTS else 0) for n in range(CLIENTS)]

        def client_thread(n: int) -> None:
            client = clients[n % len(clients)]
            for _ in range(share[n]):
                launch(client, "quick")

        threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        launched_s = time.perf_counter() - started
        total = runs + len(clients)
        deadline = time.monotonic() + 600
        while system.count(TERMINAL) < total and time.monotonic() < deadline:
            time.sleep(0.02)
        wall_s = time.perf_counter() - started
        succeeded = system.count(("SUCCESS",)) - len(clients)
        for client in clients:
            client.close()
        return {"runs": runs, "launched_s": launched_s, "wall_s": wall_s, "succeeded": succeeded}
    finally:
        system.close()


def takeover(home: Path, database_url: str) -> dict[str, Any]:
    hold = home / "held.hold"
    hold.touch()
    system = System(home, database_url, 2)
    try:
        clients = system.clients()
        run_ids = [launch(clients[n % 2], "held") for n in range(6)]
        with system.engine.connect() as conn:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = conn.execute(
                    sa.text("SELECT run_id, launched_by FROM runs WHERE status = 'STARTED'")
                ).all()
                conn.commit()
                if len(rows) == len(run_ids):
                    break
                time.sleep(0.05)
            victim_id = rows[0].launched_by
            addresses: dict[str, str] = dict(
                conn.execute(
                    sa.text("SELECT replica_id, reporting_address FROM control_plane_replicas")
                ).all()
            )
            conn.commit()
        victim_runs = [row.run_id for row in rows if row.launched_by == victim_id]
        victim = next(
            plane
            for plane, _, grpc_port in system.planes
            if addresses[victim_id].endswith(f":{grpc_port}")
        )
        killed_at = datetime.datetime.now(datetime.UTC)
        killed = time.perf_counter()
        victim.kill()
        taken_s = heard_s = None
        with system.engine.connect() as conn:
            deadline = time.monotonic() + 120
            while (taken_s is None or heard_s is None) and time.monotonic() < deadline:
                if (
                    taken_s is None
                    and conn.execute(
                        sa.text(
                            "SELECT taken_over_by FROM control_plane_replicas WHERE replica_id = :r"
                        ),
                        {"r": victim_id},
                    ).scalar_one()
                ):
                    taken_s = time.perf_counter() - killed
                if heard_s is None:
                    beats = conn.execute(
                        sa.text("SELECT run_id, last_heartbeat_at FROM runs")
                    ).all()
                    fresh = {r.run_id for r in beats if r.last_heartbeat_at and
                             _aware(r.last_heartbeat_at) > killed_at}  # fmt: skip
                    if fresh >= set(victim_runs):
                        heard_s = time.perf_counter() - killed
                conn.commit()
                time.sleep(0.01)
        hold.unlink()
        deadline = time.monotonic() + 120
        while system.count(TERMINAL) < len(run_ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        succeeded = system.count(("SUCCESS",))
        for client in clients:
            client.close()
        return {
            "in_flight": len(run_ids),
            "victim_runs": len(victim_runs),
            "taken_s": taken_s,
            "heard_s": heard_s,
            "succeeded": succeeded,
        }
    finally:
        system.close()


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="put the figures in RESULTS.md")
    parser.add_argument("--runs", type=int, default=300, help="runs per row (default 300)")
    args = parser.parse_args()
    began = datetime.datetime.now(datetime.UTC)
    rows: list[tuple[str, int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as home:
        sqlite = f"sqlite:///{Path(home) / 'sqlite' / 'weir.db'}"
        (Path(home) / "sqlite").mkdir()
        rows.append(("SQLite", 1, throughput(Path(home) / "sqlite", sqlite, 1, args.runs)))
    for replicas in (1, 2, 3):
        with tempfile.TemporaryDirectory() as home, postgres_schema() as url:
            rows.append(("PostgreSQL", replicas, throughput(Path(home), url, replicas, args.runs)))
    with tempfile.TemporaryDirectory() as home, postgres_schema() as url:
        kill = takeover(Path(home), url)
    ended = datetime.datetime.now(datetime.UTC)
    stamp = "%Y-%m-%d %H:%M UTC"
    lines = [
        "## High availability: runs through 1 to 3 replicas, takeover after a kill "
        "(`bench/replicas.py`)",
        "",
        f"Written by `bench/replicas.py --write`: N `weir controlplane` replicas on one "
        f"database, one code server of zero-work assets listed by `address:`, "
        f"{args.runs} one-asset runs launched over HTTP by {CLIENTS} client threads spread "
        f"over the replicas (`--max-concurrent-runs {LIMIT}`), timed from the first launch "
        "to the last run's SUCCESS, read from the database. All processes share the "
        "machine's 2 cores (and, here, other work), so more replicas add availability, "
        "not throughput. The one code server takes every replica's ExecuteRun: it starts "
        "a worker without holding the lock its status reader needs (held, it stalled "
        "every launch behind the zygote's exit notes: 2.6 runs/s through three replicas "
        "before, with workers starting up to 21 s after ExecuteRun).",
        "",
        *run_context_lines(began.strftime(stamp), ended.strftime(stamp)),
        "- Dagster: not measured (Dagster runs one webserver/daemon pair per database)",
        "",
        "| database | replicas | runs | succeeded | launch calls done | all SUCCESS | runs/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(
            f"| {db} | {n} | {f['runs']:,} | {f['succeeded']:,} | {f['launched_s']:.1f} s "
            f"| {f['wall_s']:.1f} s | {f['runs'] / f['wall_s']:.1f} |"
            for db, n, f in rows
        ),
        "",
        f"Takeover (PostgreSQL, 2 replicas, default timings: membership beat 1 s, lease 5 s, "
        f"run heartbeats every 2 s): {kill['in_flight']} runs in flight, "
        f"{kill['victim_runs']} of them launched by the replica killed with SIGKILL.",
        "",
        "| what | after the kill |",
        "| --- | --- |",
        "| a live replica took the dead one over (its lease ran out) "
        f"| {_seconds(kill['taken_s'])} |",
        f"| every run the dead replica launched heartbeats through the survivor "
        f"| {_seconds(kill['heard_s'])} |",
        f"| runs that succeeded once released | {kill['succeeded']} of {kill['in_flight']} |",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "ha", section))
    ok = kill["succeeded"] == kill["in_flight"] and all(
        f["succeeded"] == f["runs"] for _, _, f in rows
    )
    return 0 if ok else 1


def _seconds(value: float | None) -> str:
    return "did not happen within 120 s" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    sys.exit(main())
