"""What the commands that talk to a running control plane share: --url, --deployment and
--token, the client, and API errors shown as one line."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from weir_controlplane.cli import CommandError
from weir_controlplane.errors import ApiError, ControlPlaneUnreachableError

if TYPE_CHECKING:  # the client loads http.client: imported by the commands that call the API
    from weir_controlplane.connect_client import ConnectClient

# weir_controlplane.connect_client.DEFAULT_URL, repeated so that building the parser loads
# no HTTP client; a test pins the two to each other.
DEFAULT_URL = "http://127.0.0.1:3000"


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
    parser.add_argument(
        "--token",
        default=os.environ.get("WEIR_TOKEN"),
        help="the API token to send as a bearer token (default: $WEIR_TOKEN)",
    )


def client_for(args: argparse.Namespace) -> ConnectClient:
    """The API as JSON: the CLI loads no protobuf (a client command stays a process start
    and one request)."""
    from weir_controlplane.connect_client import ConnectClient

    return ConnectClient(args.url, deployment=args.deployment, token=args.token)


def api_command(
    run: Callable[[argparse.Namespace], Any], flags: Mapping[str, str] | None = None
) -> Callable[[argparse.Namespace], Any]:
    """`run` with the API's errors turned into one-line CLI errors.

    `flags` maps request fields, as the API's messages name them (`partitionKey`), to the
    command's flags (`--partition`): the person at the terminal typed the flag.
    """

    def handler(args: argparse.Namespace) -> Any:
        try:
            return run(args)
        except ControlPlaneUnreachableError as error:
            raise CommandError(error.message) from None
        except ApiError as error:
            message = name_flags(error.message, flags or {})
            raise CommandError(f"{message} ({error.code})") from None

    return handler


def name_flags(message: str, flags: Mapping[str, str]) -> str:
    """`message` with each request field it names, as a whole word, replaced by its flag."""
    if not flags:
        return " ".join(message.split())
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, flags)) + r")(?![\w-])")
    return " ".join(pattern.sub(lambda match: flags[match.group(1)], message).split())
