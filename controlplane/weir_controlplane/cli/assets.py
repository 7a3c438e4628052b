"""`weir assets list` and `weir assets lineage`: the asset graph and its state, over the API.

weir assets list --select "group:finance"
weir assets lineage "+revenue+"
weir assets lineage revenue --upstream 1
"""

from __future__ import annotations

import argparse
from typing import Any

from weir_controlplane.cli.output import key_text, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# Replies are the API's JSON (proto3 mapping: camelCase fields, fields at their default left
# out): the CLI loads no protobuf.


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
    filters = {
        "selection": args.select,
        "group": args.group,
        "kind": args.kind,
        "owner": args.owner,
        "tag": args.tag,
        "codeLocation": args.location,
    }
    request = {field: value for field, value in filters.items() if value}
    assets = list(client_for(args).pages("ListAssets", request, "assets"))
    if not assets:
        print("No assets match.")
        return 0
    rows = [
        [
            key_text(asset.get("key")),
            asset.get("codeLocation") or "-",
            asset.get("definition", {}).get("groupName") or "-",
            ",".join(asset.get("definition", {}).get("kinds", [])) or "-",
            _checks(asset),
            _materialized(asset),
        ]
        for asset in assets
    ]
    print(table(["KEY", "LOCATION", "GROUP", "KINDS", "CHECKS", "LAST MATERIALIZED"], rows))
    return 0


def show_lineage(args: argparse.Namespace) -> int:
    from weir_controlplane.connect_client import asset_key

    request: dict[str, Any]
    if args.upstream is not None or args.downstream is not None:
        request = {"key": asset_key(args.selection)}
        if args.upstream is not None:
            request["upstreamDepth"] = args.upstream
        if args.downstream is not None:
            request["downstreamDepth"] = args.downstream
    else:
        request = {"selection": args.selection}
    client = client_for(args)
    assets: list[dict[str, Any]] = []
    parents: dict[str, list[str]] = {}
    cursor = ""
    while True:  # a large lineage comes in pages, each under the reply size limit
        reply = client.call("GetAssetLineage", {**request, "cursor": cursor} if cursor else request)
        assets.extend(reply.get("assets", []))
        for edge in reply.get("edges", []):
            parents.setdefault(key_text(edge.get("downstream")), []).append(
                key_text(edge.get("upstream"))
            )
        cursor = reply.get("nextCursor", "")
        if not cursor:
            break
    rows = []
    for asset in assets:
        key = key_text(asset.get("key"))
        rows.append(
            [
                key,
                ", ".join(sorted(parents.get(key, []))) or "-",
                asset.get("codeLocation") or "-",
                _materialized(asset),
            ]
        )
    print(table(["KEY", "DEPENDS ON", "LOCATION", "LAST MATERIALIZED"], rows))
    return 0


def _materialized(asset: dict[str, Any]) -> str:
    record = asset.get("latestMaterialization")
    if record is None:
        return "never"
    partition = record.get("materialization", {}).get("partition", "")
    return when(record.get("timestamp")) + (f" [{partition}]" if partition else "")


def _checks(asset: dict[str, Any]) -> str:
    """How the latest evaluations went, e.g. "1/2 passed, 1 not run"; "-" for no checks."""
    checks = asset.get("checks", [])
    if not checks:
        return "-"
    evaluated = [check["latestEvaluation"] for check in checks if "latestEvaluation" in check]
    not_run = len(checks) - len(evaluated)
    if not evaluated:
        return f"{not_run} not run"
    passed = sum(bool(record.get("evaluation", {}).get("passed")) for record in evaluated)
    return f"{passed}/{len(evaluated)} passed" + (f", {not_run} not run" if not_run else "")
