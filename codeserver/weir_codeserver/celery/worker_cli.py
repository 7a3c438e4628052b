"""`weir celery worker`: a Celery worker for one code location.

    weir celery worker -f defs.py [-Q queue,...] [-c concurrency] [--broker URL] [-n name]

Loads the definitions once, before Celery forks its pool (each task then starts in
milliseconds), and takes the broker and settings from their celery_executor (the
definitions' own, else the first job's); `--broker` overrides the broker. The worker
needs the control plane's reporting address, which every task carries, and no database.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from weir import Definitions

from weir_codeserver.loader import (
    LoadError,
    add_target_arguments,
    load_definitions,
    target_from_arguments,
)
from weir_codeserver.run_plan import bound_resources

log = logging.getLogger("weir.celery")
READY_LINE = "WEIR_CELERY_WORKER_READY"


def celery_config(defs: Definitions) -> Mapping[str, Any] | None:
    executors = [defs.executor, *(job.executor_def for job in defs.jobs.values())]
    return next((e.config for e in executors if e is not None and e.is_celery), None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weir celery worker")
    add_target_arguments(parser)
    parser.add_argument(
        "-Q", "--queues", help="comma-separated queues (default: the default queue)"
    )
    parser.add_argument("-c", "--concurrency", type=int, default=1, help="pool processes")
    parser.add_argument("-n", "--hostname", help="the worker's node name (name@host)")
    parser.add_argument("--broker", help="the broker URL, over the executor's")
    parser.add_argument(
        "-P", "--pool", default="prefork", help="Celery's pool (prefork, solo, threads)"
    )
    parser.add_argument("-l", "--loglevel", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.loglevel.upper(), format="%(levelname)s %(name)s %(message)s")
    try:
        defs = load_definitions(target_from_arguments(args))
    except LoadError as exc:
        print(f"error: could not load the code location: {exc.message}", file=sys.stderr)
        return 1
    config = celery_config(defs)
    if config is None:
        print(
            "error: the definitions use no celery_executor (set it on Definitions(executor=...) "
            "or on a job's executor_def)",
            file=sys.stderr,
        )
        return 1
    from celery import signals
    from celery.exceptions import Ignore

    from weir_codeserver.celery.app import TASK_NAME, make_app
    from weir_codeserver.celery.step_worker import AttemptRefused, run_attempt

    resources = bound_resources(defs)
    app = make_app(config, args.broker)

    @app.task(name=TASK_NAME, ignore_result=True, acks_late=True)
    def execute_step(payload: dict[str, Any]) -> None:
        try:
            seconds = run_attempt(defs, resources, payload)
        except AttemptRefused as exc:
            log.warning("refused: %s", exc)  # a duplicate delivery, or no longer wanted
            raise Ignore() from exc
        log.info("attempt %s done in %.3f s", payload.get("launch_key"), seconds)

    @signals.worker_ready.connect
    def ready(**_: Any) -> None:
        print(READY_LINE, file=sys.__stdout__, flush=True)  # Celery redirects sys.stdout

    queues = args.queues or str(config["default_queue"])
    argv_ = [
        "worker", "-Q", queues, "-c", str(args.concurrency), "-P", args.pool,
        "--loglevel", args.loglevel, "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    if args.hostname:
        argv_ += ["-n", args.hostname]
    app.worker_main(argv_)
    return 0
