"""`weir assets list` and `weir assets lineage`: the asset graph and its state, over the API.

weir assets list --select "group:finance"
weir assets lineage "+revenue+"
weir assets lineage revenue --upstream 1
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from weir_controlplane.cli.output import table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# Imported by the commands that call the API: `weir --help` should not load protobuf.
if TYPE_CHECKING:
    from weir_protos.v1 import control_plane_pb2 as cp


def register(subparsers: argparse._SubParsersAction) -> None:
    assets = subparsers.add_parser("assets", help="list assets and their lineage")
    commands = assets.add_subparsers(dest="assets_command", metavar="COMMAND")
    commands.required = True

    listing = commands.add_parser("list", help="assets with their latest materialization")
    listing.add_argument("--select", default="", metavar="SEL", help='a selection, e.g. "a+"')
    listing.add_argument("--group", default="")
    listing.add_argument("--kind", default="")
    listing.add_argument("--owner", default="")
    listing.add_argument("--tag", default="", metavar="KEY[=VALUE]")
    listing.add_argument("--location", default="", help="only this code location's assets")
    add_api_options(listing)
    listing.set_defaults(
        handler=api_command(
            list_assets,
            flags={"selection": "--select", "codeLocation": "--location", "tag": "--tag"},
        )
    )

    lineage = commands.add_parser("lineage", help="assets a selection picks, with their deps")
    lineage.add_argument("selection", metavar="SEL", help='e.g. "+revenue+" or "*orders"')
    lineage.add_argument(
        "--upstream", type=int, metavar="N", help="SEL is one asset key: N levels up"
    )
    lineage.add_argument(
        "--downstream", type=int, metavar="N", help="SEL is one asset key: N levels down"
    )
    add_api_options(lineage)
    lineage.set_defaults(
        handler=api_command(
            show_lineage,
            flags={"upstreamDepth": "--upstream", "downstreamDepth": "--downstream"},
        )
    )


def list_assets(args: argparse.Namespace) -> int:
    client = client_for(args)
    assets = list(
        client.all_assets(
            args.select,
            group=args.group,
            kind=args.kind,
            owner=args.owner,
            tag=args.tag,
            code_location=args.location,
        )
    )
    if not assets:
        print("No assets match.")
        return 0
    rows = [
        [
            "/".join(asset.key.path),
            asset.code_location or "-",
            asset.definition.group_name or "-",
            ",".join(asset.definition.kinds) or "-",
            _checks(asset),
            _materialized(asset),
        ]
        for asset in assets
    ]
    print(table(["KEY", "LOCATION", "GROUP", "KINDS", "CHECKS", "LAST MATERIALIZED"], rows))
    return 0


def show_lineage(args: argparse.Namespace) -> int:
    from weir_protos.v1 import control_plane_pb2 as cp

    from weir_controlplane.client import asset_key

    client = client_for(args)
    if args.upstream is not None or args.downstream is not None:
        request = cp.GetAssetLineageRequest(key=asset_key(args.selection))
        if args.upstream is not None:
            request.upstream_depth = args.upstream
        if args.downstream is not None:
            request.downstream_depth = args.downstream
        reply = client.call("GetAssetLineage", request)
    else:
        reply = client.get_asset_lineage(args.selection)
    parents: dict[str, list[str]] = {}
    for edge in reply.edges:
        parents.setdefault("/".join(edge.downstream.path), []).append("/".join(edge.upstream.path))
    rows = []
    for asset in reply.assets:
        key = "/".join(asset.key.path)
        rows.append(
            [
                key,
                ", ".join(sorted(parents.get(key, []))) or "-",
                asset.code_location or "-",
                _materialized(asset),
            ]
        )
    print(table(["KEY", "DEPENDS ON", "LOCATION", "LAST MATERIALIZED"], rows))
    return 0


def _materialized(asset: cp.Asset) -> str:
    if not asset.HasField("latest_materialization"):
        return "never"
    record = asset.latest_materialization
    partition = record.materialization.partition
    return when(record.timestamp) + (f" [{partition}]" if partition else "")


def _checks(asset: cp.Asset) -> str:
    """How the latest evaluations went, e.g. "1/2 passed, 1 not run"; "-" for no checks."""
    if not asset.checks:
        return "-"
    evaluated = [check for check in asset.checks if check.HasField("latest_evaluation")]
    not_run = len(asset.checks) - len(evaluated)
    if not evaluated:
        return f"{not_run} not run"
    passed = sum(check.latest_evaluation.evaluation.passed for check in evaluated)
    return f"{passed}/{len(evaluated)} passed" + (f", {not_run} not run" if not_run else "")
