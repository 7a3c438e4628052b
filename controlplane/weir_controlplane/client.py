"""A small client of the control plane's HTTP API (Connect protocol, JSON), as the CLI uses it.

Requests and replies are the `weir.v1` messages; errors come back as the classes in
`weir_controlplane.errors` (a Connect error's code picks the class), and a control plane
that does not answer at all raises `ControlPlaneUnreachableError`. Only the standard
library and protobuf are needed: no grpc, no HTTP library.

Example::

    from weir_controlplane.client import WeirClient

    client = WeirClient("http://127.0.0.1:3000")
    run = client.launch_run("orders+", partition_key="2024-01-01").run
    client.get_run(run.run_id).run.status   # RUN_STATUS_QUEUED, ...
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format, message_factory
from google.protobuf.message import Message
from weir_protos.v1 import common_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.errors import ApiError, ControlPlaneUnreachableError

DEFAULT_URL = "http://127.0.0.1:3000"
CONTROL_PLANE_SERVICE = "weir.v1.ControlPlaneService"
M = TypeVar("M", bound=Message)

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


class WeirClient:
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

    # --- the generic call ---------------------------------------------------------------

    def call(self, method: str, request: Message, *, service: str = CONTROL_PLANE_SERVICE) -> Any:
        """Call one unary RPC and return its reply message."""
        reply_class = _reply_class(service, method)
        body = json_format.MessageToJson(request, indent=None).encode()
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
        reply = reply_class()
        try:
            json_format.Parse(data.decode("utf-8"), reply, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError):
            raise ApiError.from_code(
                "unavailable", _not_weir(self.url, 200, content_type)
            ) from None
        return reply

    # --- the calls the CLI makes --------------------------------------------------------

    def list_assets(self, selection: str = "", **filters: Any) -> cp.ListAssetsResponse:
        """One page of assets; `filters` are ListAssetsRequest fields (group, kind, limit...)."""
        return self.call("ListAssets", cp.ListAssetsRequest(selection=selection, **filters))

    def all_assets(self, selection: str = "", **filters: Any) -> Iterator[cp.Asset]:
        """Every asset the filters pick, page after page."""
        cursor = ""
        while True:
            page = self.list_assets(selection, cursor=cursor, **filters)
            yield from page.assets
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get_asset(self, key: str) -> cp.GetAssetResponse:
        return self.call("GetAsset", cp.GetAssetRequest(key=asset_key(key)))

    def get_asset_lineage(self, selection: str) -> cp.GetAssetLineageResponse:
        return self.call("GetAssetLineage", cp.GetAssetLineageRequest(selection=selection))

    def launch_run(
        self,
        selection: str,
        *,
        partition_key: str = "",
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
        code_location: str = "",
    ) -> cp.LaunchRunResponse:
        request = cp.LaunchRunRequest(
            selection=selection,
            partition_key=partition_key,
            tags=dict(tags or {}),
            code_location=code_location,
        )
        if run_config:
            request.run_config.update(dict(run_config))
        return self.call("LaunchRun", request)

    def get_run(self, run_id: str) -> cp.GetRunResponse:
        return self.call("GetRun", cp.GetRunRequest(run_id=run_id))

    def list_runs(self, **filters: Any) -> cp.ListRunsResponse:
        """One page of runs, newest first; `filters` are ListRunsRequest fields."""
        return self.call("ListRuns", cp.ListRunsRequest(**filters))

    def cancel_run(self, run_id: str) -> cp.CancelRunResponse:
        return self.call("CancelRun", cp.CancelRunRequest(run_id=run_id))

    def get_run_events(self, run_id: str, cursor: str = "", limit: int = 0) -> Any:
        return self.call(
            "GetRunEvents", cp.GetRunEventsRequest(run_id=run_id, cursor=cursor, limit=limit)
        )

    def all_run_events(self, run_id: str) -> Iterator[Any]:
        """Every event the run has stored so far, oldest first."""
        cursor = ""
        while True:
            page = self.get_run_events(run_id, cursor=cursor, limit=1000)
            yield from page.events
            if not page.has_more:
                return
            cursor = page.next_cursor


def asset_key(text: str) -> common_pb2.AssetKey:
    """ "raw/orders" -> AssetKey(path=["raw", "orders"])."""
    return common_pb2.AssetKey(path=text.split("/"))


def _reply_class(service: str, method: str) -> type[Message]:
    from weir_protos.v1 import control_plane_pb2, reporting_pb2

    for module in (control_plane_pb2, reporting_pb2):
        descriptor = module.DESCRIPTOR.services_by_name.get(service.rsplit(".", 1)[-1])
        if descriptor is not None and descriptor.full_name == service:
            found = descriptor.methods_by_name.get(method)
            if found is not None:
                return message_factory.GetMessageClass(found.output_type)
    raise ValueError(f"{service} has no method {method!r}")


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
