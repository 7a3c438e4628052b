"""The images' health check: grpc.health.v1.Health/Check on HOST:PORT, exit 0 when SERVING.

    python healthcheck.py 127.0.0.1:4000 [service]

A draining server (SIGTERM received) answers NOT_SERVING, so an orchestrator stops sending
it work before it stops.
"""

from __future__ import annotations

import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: healthcheck.py HOST:PORT [service]", file=sys.stderr)
        return 2
    service = argv[1] if len(argv) == 2 else ""
    with grpc.insecure_channel(argv[0]) as channel:
        # types-grpcio-health-checking declares HealthStub without its methods.
        stub: Any = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2.0)
        except grpc.RpcError as exc:
            print(f"{argv[0]}: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{argv[0]}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
