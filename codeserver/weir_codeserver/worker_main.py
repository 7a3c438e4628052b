"""A run worker in a fresh interpreter: the code server's fallback when it has no zygote.

    python -m weir_codeserver.worker_main --status-fd N --accepted-at T -f defs.py < request

Loads the user's code itself (the slow part the zygote exists to avoid), reads the
serialized ExecuteRunRequest from stdin and runs it like a forked worker.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys

from weir_codeserver.ipc import StatusSender
from weir_codeserver.loader import (
    CodeTarget,
    LoadError,
    add_target_arguments,
    load_definitions,
    target_from_arguments,
)
from weir_codeserver.run_plan import bound_resources
from weir_codeserver.step_forker import StepForker, uses_multiprocess
from weir_codeserver.worker import (
    CancelFlag,
    StatusSink,
    install_cancel_handlers,
    report_start_failure,
    run_worker_process,
)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the code server decides about shutdown
    cancel = CancelFlag()
    install_cancel_handlers(cancel)
    parser = argparse.ArgumentParser(prog="python -m weir_codeserver.worker_main")
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--accepted-at", type=float, required=True)
    add_target_arguments(parser)
    args = parser.parse_args(argv)
    request = sys.stdin.buffer.read()
    status = StatusSender(socket.socket(fileno=args.status_fd))
    return run_request(
        target_from_arguments(args),
        request,
        launch="fresh interpreter",
        accepted_at=args.accepted_at,
        status=status,
        cancel=cancel,
    )


def run_request(
    target: CodeTarget,
    request: bytes,
    *,
    launch: str,
    accepted_at: float,
    status: StatusSink,
    cancel: CancelFlag,
) -> int:
    """Load the user's code in this process and run the serialized ExecuteRunRequest; the
    exit code of a worker. Shared by this fallback and the Kubernetes Job (job_main.py)."""
    try:
        defs = load_definitions(target)
    except LoadError as exc:
        return report_start_failure(request, exc.message, exc.class_name)
    resources = bound_resources(defs)
    # Forked now, before the worker's first gRPC object (see step_forker.py).
    steps = StepForker.start(defs, resources) if uses_multiprocess(defs) else None
    return run_worker_process(
        defs,
        resources,
        request,
        launch=launch,
        accepted_at=accepted_at,
        status=status,
        cancel=cancel,
        steps=steps,
    )


if __name__ == "__main__":
    sys.exit(main())
