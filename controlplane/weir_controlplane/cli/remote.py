"""What the commands that talk to a running control plane share: --url and --deployment,
the client, and API errors shown as one line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from weir_controlplane.cli import CommandError
from weir_controlplane.client import DEFAULT_URL, WeirClient
from weir_controlplane.errors import ApiError, ControlPlaneUnreachableError


def add_api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("WEIR_URL", DEFAULT_URL),
        help=f"the control plane's HTTP address (default: $WEIR_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--deployment",
        default=os.environ.get("WEIR_DEPLOYMENT"),
        help="the deployment to act on (default: $WEIR_DEPLOYMENT or the server's, prod)",
    )


def client_for(args: argparse.Namespace) -> WeirClient:
    return WeirClient(args.url, deployment=args.deployment, token=os.environ.get("WEIR_TOKEN"))


def api_command(run: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], Any]:
    """`run` with the API's errors turned into one-line CLI errors."""

    def handler(args: argparse.Namespace) -> Any:
        try:
            return run(args)
        except ControlPlaneUnreachableError as error:
            raise CommandError(error.message) from None
        except ApiError as error:
            raise CommandError(f"{error.message} ({error.code})") from None

    return handler
