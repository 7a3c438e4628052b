"""Serves a Python code location over gRPC (weir.v1 CodeLocationService) and runs its runs.

Start one with ``weir-codeserver -f defs.py`` (cli.py), or from code::

    from weir_codeserver import CodeTarget, ServerConfig, create_server

    server, port = create_server(ServerConfig(CodeTarget(python_file="defs.py")))
    server.start()
    ...
    server.stop()

Modules, one job each:

- loader: load the user's Definitions (-f / -m / -a); failures become a LoadError
- location: the loaded location and its definitions replies, built once as bytes
- snapshot: Definitions -> DefinitionsSnapshot, its content hash and streamed parts
- wire_values, wire_partitions, wire_automation: SDK objects -> weir.v1 messages
- server: create_server / serve (health, reflection, SIGTERM handling); service: the RPCs
- ticks: EvaluateSensor and EvaluateSchedule through the SDK's evaluate_tick
- supervisor: the runs this server executes (start, cancel, status, shutdown)
- launchers: start a worker from the zygote or, failing that, as a fresh interpreter
- zygote: forked before grpc exists; forks run workers and keeps a warm spare
- ipc: the control stream and status datagrams between server, zygote and workers
- run_plan: an ExecuteRunRequest checked and planned; worker: one run, start to end
- run_events: SDK events -> RunEvents; reporter: batched, retried ReportEvents + heartbeats
"""

from weir_codeserver.loader import CodeTarget, LoadError
from weir_codeserver.server import CodeServer, ServerConfig, create_server, serve

__all__ = ["CodeServer", "CodeTarget", "LoadError", "ServerConfig", "create_server", "serve"]
