"""Step processes for a run worker whose run uses the multiprocess executor.

A worker reports over gRPC, and gRPC's threads and polling state do not survive fork, so
its steps are not forked from it. Before the worker makes its first gRPC object it forks
a *step forker*: a single-threaded copy with the definitions loaded, which forks one
child per step when the worker asks. Each step's child gets a socket pair's end of its
own to the worker (handed over on the control socket with SCM_RIGHTS), sends the step's
events and outcome on it (the SDK's `run_step_here`) and exits. The forker exits when
the worker closes the control socket or goes away.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from weir import Definitions
from weir._execution.plan import ExecutionPlan, ExecutionStep
from weir._execution.step import RunScope
from weir._execution.step_process import StepProcess, run_step_here
from weir_protos.v1 import code_location_pb2

from weir_codeserver import ipc


def uses_multiprocess(defs: Definitions) -> bool:
    """Whether any run of these definitions may run its steps in processes of their own."""
    executors = [defs.executor, *(job.executor_def for job in defs.jobs.values())]
    return any(e is not None and e.is_multiprocess for e in executors)


class StepForker:
    """The worker's handle on its step forker."""

    def __init__(self, pid: int, control: socket.socket):
        self.pid = pid
        self.control = control

    @classmethod
    def start(cls, defs: Definitions, resources: Mapping[str, Any]) -> StepForker:
        """Fork the step forker; call it before this process makes any gRPC object."""
        worker_end, forker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                worker_end.close()
                code = _serve(forker_end, defs, resources)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        forker_end.close()
        return cls(pid, worker_end)

    def join_process_group(self) -> None:
        """Follow the worker into the process group it takes for its run."""
        with contextlib.suppress(OSError):
            os.setpgid(self.pid, os.getpgid(0))

    def begin_run(self, request_bytes: bytes) -> None:
        """Give the forker the run, which it prepares as the worker did."""
        ipc.send_frame(self.control, {"kind": "run"}, request_bytes)

    def launch(self, plan: ExecutionPlan, step: ExecutionStep, run: RunScope) -> StepProcess:
        header = {"kind": "step", "step": step.key, "partition_key": run.partition_key}
        ipc.send_frame(self.control, header)
        message, fds, _, _ = socket.recv_fds(self.control, 1024, 1)
        if not fds:
            raise RuntimeError(f"The step forker could not start step {step.key}: {message!r}")
        return StepProcess(step, Connection(fds[0]))

    def close(self) -> None:
        self.control.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _serve(control: socket.socket, defs: Definitions, resources: Mapping[str, Any]) -> int:
    from weir_codeserver.run_plan import prepare_run, run_scope
    from weir_codeserver.worker import outlive_the_output_pipe

    outlive_the_output_pipe()  # steps may print after the code server is gone

    # Cancellation is the worker's business: it stops starting steps and lets these finish.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # step children are reaped by the kernel
    prepared = None
    while (frame := ipc.recv_frame(control)) is not None:
        header, payload = frame
        if header["kind"] == "run":
            request = code_location_pb2.ExecuteRunRequest.FromString(payload)
            prepared = prepare_run(defs, resources, request)
            continue
        assert prepared is not None, "a step was asked for before its run"
        step = next(s for s in prepared.plan.steps if s.key == header["step"])
        scope = run_scope(prepared, header["partition_key"], emit=lambda event: None)
        _fork_step(control, prepared.plan, step, scope)
    return 0


def _fork_step(
    control: socket.socket, plan: ExecutionPlan, step: ExecutionStep, run: RunScope
) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = os.fork()
    except OSError as exc:
        ours.close()
        theirs.close()
        socket.send_fds(control, [f"fork failed: {exc}".encode()], [])
        return
    if pid == 0:
        code = 1
        try:
            control.close()
            theirs.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = run_step_here(plan, step, run, Connection(ours.detach()))
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    ours.close()
    socket.send_fds(control, [b"started"], [theirs.fileno()])
    theirs.close()
