"""`weir celery worker -f defs.py [-Q queues]`: a Celery worker for a code location.

It loads user code, so it runs in the code server's package (weir_codeserver.celery):
this command checks the arguments and hands them over in the same process image.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# (flags, destination, help): the worker's options, passed through as given.
_OPTIONS = (
    (("-f", "--python-file"), "python_file", "a Python file that defines a weir.Definitions"),
    (("-m", "--module-name"), "module_name", "an importable module defining one"),
    (("-a", "--attribute"), "attribute", "the Definitions' name, when the code defines several"),
    (("-Q", "--queues"), "queues", "comma-separated queues (default: the executor's default)"),
    (("-c", "--concurrency"), "concurrency", "pool processes (default 1)"),
    (("-n", "--hostname"), "hostname", "the worker's node name (name@host)"),
    (("--broker",), "broker", "the broker URL, over the executor's"),
    (("-P", "--pool"), "pool", "Celery's pool: prefork (default), solo, threads"),
    (("-l", "--loglevel"), "loglevel", "log level (default INFO)"),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("celery", help="Celery workers that run a code location's steps")
    commands = parser.add_subparsers(dest="celery_command", metavar="COMMAND")
    commands.required = True
    worker = commands.add_parser("worker", help="start a worker for a code location")
    for flags, dest, text in _OPTIONS:
        worker.add_argument(*flags, dest=dest, help=text)
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    if not (args.python_file or args.module_name):
        args.command_parser.error("name the code location with -f defs.py or -m module")
    argv = [sys.executable, "-m", "weir_codeserver.celery", "worker"]
    for flags, dest, _ in _OPTIONS:
        value = getattr(args, dest)
        if value is not None:
            argv += [flags[-1], value]
    os.execv(sys.executable, argv)
    return 0  # not reached
