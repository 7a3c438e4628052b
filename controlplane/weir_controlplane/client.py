"""A client of the control plane's HTTP API (Connect protocol, JSON) in `weir.v1` messages.

Requests and replies are the `weir.v1` messages; the transport is
`weir_controlplane.connect_client.ConnectClient` (the standard library, as the CLI uses it,
which wants dicts and no protobuf), so errors are the same: the classes in
`weir_controlplane.errors`, and `ControlPlaneUnreachableError` when nothing answers.

Example::

    from weir_controlplane.client import WeirClient

    client = WeirClient("http://127.0.0.1:3000")
    run = client.launch_run("orders+", partition_key="2024-01-01").run
    client.get_run(run.run_id).run.status   # RUN_STATUS_QUEUED, ...
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.message import Message
from weir_protos.v1 import common_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.connect_client import (
    CONTROL_PLANE_SERVICE,
    DEFAULT_URL,
    ConnectClient,
    not_weir_reply,
)

__all__ = ["CONTROL_PLANE_SERVICE", "DEFAULT_URL", "WeirClient", "asset_key"]


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
        # The JSON transport does the calling; this class adds the messages.
        self.transport = ConnectClient(url, deployment=deployment, token=token, timeout=timeout)

    # --- the generic call ---------------------------------------------------------------

    def call(self, method: str, request: Message, *, service: str = CONTROL_PLANE_SERVICE) -> Any:
        """Call one unary RPC and return its reply message."""
        reply_class = _reply_class(service, method)
        document = self.transport.call(method, json_format.MessageToDict(request), service=service)
        reply = reply_class()
        try:
            json_format.ParseDict(document, reply, ignore_unknown_fields=True)
        except json_format.ParseError:
            raise not_weir_reply(self.transport.url, "application/json") from None
        return reply

    # --- typed calls, for Python callers -----------------------------------------------

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
        """The whole lineage of `selection`: its pages joined into one reply."""
        whole = cp.GetAssetLineageResponse()
        cursor = ""
        while True:
            page = self.call(
                "GetAssetLineage", cp.GetAssetLineageRequest(selection=selection, cursor=cursor)
            )
            whole.assets.extend(page.assets)
            whole.edges.extend(page.edges)
            if not page.next_cursor:
                return whole
            cursor = page.next_cursor

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
