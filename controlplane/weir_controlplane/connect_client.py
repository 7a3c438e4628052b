"""The control plane's HTTP API (Connect protocol, JSON) as plain JSON: what the CLI calls.

A request is a dict in the proto3 JSON mapping (`{"partitionKey": "2024-01-01"}`) and so is
the reply (`{"run": {"runId": ..., "status": "RUN_STATUS_QUEUED"}}`; fields at their default
are left out, as the server sends them). Only the standard library is loaded: no protobuf,
no grpc, no `weir_protos`, so a `weir runs list` costs a process start and one request.
`weir_controlplane.client.WeirClient` is the same calls with `weir.v1` messages.

Errors come back as the classes in `weir_controlplane.errors` (a Connect error's code picks
the class); a control plane that does not answer at all raises
`ControlPlaneUnreachableError`.

Example::

    from weir_controlplane.connect_client import ConnectClient

    client = ConnectClient("http://127.0.0.1:3000")
    run = client.call("LaunchRun", {"selection": "orders+"})["run"]
    client.call("GetRun", {"runId": run["runId"]})["run"]["status"]  # "RUN_STATUS_QUEUED"
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from weir_controlplane.errors import ApiError, ControlPlaneUnreachableError

DEFAULT_URL = "http://127.0.0.1:3000"
CONTROL_PLANE_SERVICE = "weir.v1.ControlPlaneService"

# What a reply without a Connect error body means, by HTTP status (the Connect
# protocol's mapping, used e.g. when a proxy answers instead of the control plane).
_CODE_BY_HTTP_STATUS = {
    400: "internal",
    401: "unauthenticated",
    403: "permission_denied",
    404: "unimplemented",
    429: "unavailable",
    502: "unavailable",
    503: "unavailable",
    504: "unavailable",
}


class ConnectClient:
    """Calls the control plane at `url`, in `deployment` (the server's default when None)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        deployment: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.deployment = deployment
        self.token = token
        self.timeout = timeout

    def call(
        self, method: str, request: dict[str, Any], *, service: str = CONTROL_PLANE_SERVICE
    ) -> dict[str, Any]:
        """Call one unary RPC with `request` (proto3 JSON) and return its reply, a dict."""
        body = json.dumps(request, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "connect-protocol-version": "1"}
        if self.deployment:
            headers["x-weir-deployment"] = self.deployment
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        http_request = urllib.request.Request(
            f"{self.url}/{service}/{method}", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:
                data = response.read()
                content_type = response.headers.get("content-type", "")
        except urllib.error.HTTPError as error:
            raise _api_error(error.code, error.read(), self.url) from None
        except http.client.HTTPException as error:
            # Something answered, but not in HTTP/1.1: most often the gRPC port (HTTP/2).
            raise ControlPlaneUnreachableError(
                f"{self.url} does not answer as an HTTP/1.1 server "
                f"({type(error).__name__}); if that is the control plane's gRPC port, pass "
                "its HTTP port to --url (default 3000)"
            ) from None
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ControlPlaneUnreachableError(
                f"cannot reach the control plane at {self.url} ({reason}); is it running? "
                "Start one with `weir dev -f defs.py`, or pass --url"
            ) from None
        try:
            reply = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            reply = None
        if not isinstance(reply, dict):
            raise not_weir_reply(self.url, content_type)
        return reply

    def pages(
        self, method: str, request: dict[str, Any], items: str, *, done_when_no_more: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every element of the reply's `items` list, page after page, following
        `nextCursor` (until it is empty, or until `hasMore` is false when
        `done_when_no_more`, as GetRunEvents pages)."""
        cursor = ""
        while True:
            page = self.call(method, {**request, "cursor": cursor} if cursor else request)
            yield from page.get(items, [])
            cursor = page.get("nextCursor", "")
            finished = not page.get("hasMore") if done_when_no_more else not cursor
            if finished or not cursor:
                return


def asset_key(text: str) -> dict[str, list[str]]:
    """ "raw/orders" -> {"path": ["raw", "orders"]}, an AssetKey in JSON."""
    return {"path": text.split("/")}


def not_weir_reply(url: str, content_type: str = "") -> ApiError:
    """The error for a 200 reply that is not a Weir API message (another server's page)."""
    return ApiError.from_code("unavailable", _not_weir(url, 200, content_type))


def _api_error(status: int, body: bytes, url: str) -> ApiError:
    """The error a non-200 reply stands for: its Connect error JSON, else its HTTP status.
    Another server's page (HTML, say) is not shown: one line says what answered."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("code"), str):
        return ApiError.from_code(payload["code"], str(payload.get("message", "")))
    return ApiError.from_code(_CODE_BY_HTTP_STATUS.get(status, "unknown"), _not_weir(url, status))


def _not_weir(url: str, status: int, content_type: str = "") -> str:
    kind = f", {content_type.split(';')[0]}" if content_type else ""
    return (
        f"{url} answered HTTP {status}{kind} that is not a Weir API reply; is --url the "
        "control plane's HTTP address?"
    )
