"""A run worker on its own, with no code server: what a Kubernetes Job per run executes.

    python -m weir_codeserver.job_main --request-file /var/run/weir/request -m my.defs

The control plane's Kubernetes launcher writes the serialized ExecuteRunRequest (with the
run's reporting token) into a Secret mounted at --request-file. The worker loads the user's
code, runs the request and reports every event and heartbeat over RunReportingService, as a
forked worker does; SIGTERM (the Job deleted: a cancel) stops it with RUN_CANCELED. The exit
code is the worker's: 0 once the control plane has acknowledged every event.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from weir_codeserver.loader import add_target_arguments, target_from_arguments
from weir_codeserver.worker import CancelFlag, install_cancel_handlers
from weir_codeserver.worker_main import run_request


def _log_status(note: Mapping[str, Any]) -> None:
    # No code server to tell: the final status goes to the pod's log, events to the plane.
    if "status" in note:
        print(f"weir-job: {json.dumps(dict(note), sort_keys=True)}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    cancel = CancelFlag()
    install_cancel_handlers(cancel)
    signal.signal(signal.SIGINT, cancel.set)
    parser = argparse.ArgumentParser(prog="python -m weir_codeserver.job_main")
    parser.add_argument(
        "--request-file", required=True, help="the serialized ExecuteRunRequest to run"
    )
    add_target_arguments(parser)
    args = parser.parse_args(argv)
    accepted_at = time.time()
    try:
        request = Path(args.request_file).read_bytes()
    except OSError as exc:
        print(f"weir-job: cannot read the run request: {exc}", file=sys.stderr)
        return 2
    return run_request(
        target_from_arguments(args),
        request,
        launch="kubernetes job",
        accepted_at=accepted_at,
        status=_log_status,
        cancel=cancel,
    )


if __name__ == "__main__":
    sys.exit(main())
