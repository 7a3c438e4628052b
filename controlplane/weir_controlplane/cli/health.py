"""`weir health`: the deployment's asset health at a glance, or one asset's in full.

weir health                      counts by health and freshness, then every asset not healthy
weir health --location etl       the same for one code location
weir health raw/orders           the asset's status and each component with its reason
"""

from __future__ import annotations

import argparse
from typing import Any

from weir_controlplane.cli.output import key_text, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# Replies are the API's JSON (proto3 mapping: camelCase fields, enum names, fields at
# their default left out): the CLI loads no protobuf.
_HEALTH_ORDER = ("HEALTH_DEGRADED", "HEALTH_WARNING", "HEALTH_UNKNOWN", "HEALTH_HEALTHY")
_COMPONENTS = ("materialization", "partitions", "checks", "freshness")


def register(subparsers: argparse._SubParsersAction) -> None:
    health = subparsers.add_parser(
        "health", help="asset health: the deployment's summary, or one asset's components"
    )
    health.add_argument(
        "asset", nargs="?", default="", metavar="ASSET", help='an asset key, e.g. "raw/orders"'
    )
    health.add_argument("--location", default="", help="only this code location's assets")
    add_api_options(health)
    health.set_defaults(
        handler=api_command(show_health, flags={"codeLocation": "--location", "key": "ASSET"})
    )


def show_health(args: argparse.Namespace) -> int:
    if args.asset:
        return _show_asset(args)
    return _show_summary(args)


def _show_summary(args: argparse.Namespace) -> int:
    client = client_for(args)
    scope = {"codeLocation": args.location} if args.location else {}
    summary = client.call("GetDeploymentHealth", scope)
    counts = {
        entry.get("status"): int(entry.get("count", 0)) for entry in summary.get("health", [])
    }
    fresh = {
        entry.get("state"): int(entry.get("count", 0)) for entry in summary.get("freshness", [])
    }
    print(f"{int(summary.get('assetCount', 0))} assets")
    print(
        "health:    "
        + ", ".join(f"{counts.get(status, 0)} {_name(status)}" for status in _HEALTH_ORDER)
    )
    print(
        "freshness: "
        + ", ".join(
            f"{fresh.get(state, 0)} {_name(state)}"
            for state in ("FRESHNESS_FAIL", "FRESHNESS_WARN", "FRESHNESS_PASS", "FRESHNESS_UNKNOWN")
        )
    )
    troubled = list(
        client.pages(
            "ListAssets",
            {
                **scope,
                "health": ["HEALTH_DEGRADED", "HEALTH_WARNING"],
                "view": "ASSET_VIEW_HEALTH",
            },
            "assets",
        )
    )
    if not troubled:
        return 0
    troubled.sort(key=lambda asset: _HEALTH_ORDER.index(asset["health"].get("status", "")))
    rows = [
        [key_text(asset.get("key")), _name(asset["health"].get("status")), _why(asset["health"])]
        for asset in troubled
    ]
    print()
    print(table(["KEY", "HEALTH", "WHY"], rows))
    return 0


def _show_asset(args: argparse.Namespace) -> int:
    from weir_controlplane.connect_client import asset_key

    health = client_for(args).call("GetAssetHealth", {"key": asset_key(args.asset)})["health"]
    since = health.get("changeTime")
    print(
        f"{key_text(health.get('key'))}: {_name(health.get('status'))}"
        + (f" since {when(since)}" if since else "")
    )
    rows = [
        [name, _name(health.get(name, {}).get("status")), health.get(name, {}).get("reason", "")]
        for name in _COMPONENTS
    ]
    print(table(["COMPONENT", "STATUS", "REASON"], rows))
    freshness = health.get("freshnessState", {})
    due = freshness.get("nextEvaluateTime")
    print(
        f"freshness: {_name(freshness.get('state'))}: {freshness.get('reason', '')}"
        + (f" (next evaluation {when(due)})" if due else "")
    )
    return 0


def _why(health: dict[str, Any]) -> str:
    """The reasons of the components as severe as the asset itself."""
    status = health.get("status")
    reasons = [
        health[name].get("reason", "")
        for name in _COMPONENTS
        if health.get(name, {}).get("status") == status
    ]
    return "; ".join(reasons) or "-"


def _name(value: str | None) -> str:
    """HEALTH_DEGRADED -> DEGRADED; FRESHNESS_FAIL -> FAIL; unset -> UNSPECIFIED."""
    if not value:
        return "UNSPECIFIED"
    return value.split("_", 1)[1]
