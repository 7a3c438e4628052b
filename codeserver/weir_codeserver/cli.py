"""`weir-codeserver`: serve a Python code location over gRPC.

    weir-codeserver -f defs.py [--host 127.0.0.1] [--port 0]
    weir-codeserver -m my_package.definitions [-a defs]

When it serves, it prints one line for whoever started it, e.g.
``WEIR_CODESERVER_READY port=41234`` (with --port 0 the port is chosen by the system).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from weir_codeserver.loader import add_target_arguments, target_from_arguments
from weir_codeserver.server import ServerConfig, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weir-codeserver", description="Serve a Weir code location over gRPC."
    )
    add_target_arguments(parser)
    parser.add_argument(
        "--host",
        default=os.environ.get("WEIR_CODESERVER_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1, or $WEIR_CODESERVER_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("WEIR_CODESERVER_PORT", "0")),
        help="port to listen on; 0 picks a free one (default, or $WEIR_CODESERVER_PORT)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=10.0,
        help="seconds in-flight calls get to finish on SIGTERM (live runs go on in their own "
        "worker processes)",
    )
    parser.add_argument(
        "--spare-workers",
        type=int,
        default=1,
        help="run workers kept forked ahead of need once a run has started (default 1; 0 "
        "forks one per run)",
    )
    parser.add_argument(
        "--no-zygote",
        action="store_true",
        help="start every run worker as a fresh interpreter (slower; for debugging)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="weir-codeserver: %(message)s", stream=sys.stderr
    )
    config = ServerConfig(
        target=target_from_arguments(args),
        host=args.host,
        port=args.port,
        shutdown_grace_seconds=args.shutdown_grace,
        use_zygote=not args.no_zygote,
        spare_workers=max(0, args.spare_workers),
    )
    try:
        return serve(config)
    except OSError as exc:
        print(f"weir-codeserver: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
