"""`weir alerts create|list|delete|deliveries`: alert policies and their delivery log.

weir alerts create on-call --webhook https://hooks.slack.com/services/... --slack \\
    --on run-failed --on check-failed --code-location etl --tag team=data
weir alerts deliveries --status failed
"""

from __future__ import annotations

import argparse
from typing import Any

from weir_controlplane.cli.output import shorten, table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for
from weir_controlplane.cli.runs import parse_tags

KINDS = (
    "run-failed",
    "check-failed",
    "code-location-load-error",
    "tick-failed",
    "health-changed",
    "freshness-failed",
)
STATUSES = ("pending", "delivered", "failed")


def register(subparsers: argparse._SubParsersAction) -> None:
    alerts = subparsers.add_parser("alerts", help="alert policies and their deliveries")
    commands = alerts.add_subparsers(dest="alerts_command", metavar="COMMAND")
    commands.required = True

    create = commands.add_parser("create", help="post events of this deployment to a webhook")
    create.add_argument("name", help="unique in the deployment")
    create.add_argument("--webhook", required=True, metavar="URL", help="http(s) URL to POST to")
    create.add_argument(
        "--on",
        dest="kinds",
        action="append",
        required=True,
        choices=KINDS,
        metavar="KIND",
        help=f"an event kind to alert on; repeat for more ({', '.join(KINDS)})",
    )
    create.add_argument(
        "--slack", action="store_true", help='post Slack\'s {"text", "blocks"} body, not plain JSON'
    )
    create.add_argument(
        "--code-location",
        dest="code_locations",
        action="append",
        default=[],
        metavar="NAME",
        help="only events of this code location; repeat for more (default: all)",
    )
    create.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run failures only of runs with this tag; repeat for more",
    )
    add_api_options(create)
    create.set_defaults(
        handler=api_command(
            create_policy,
            flags={
                "policy.webhook_url": "--webhook",
                "policy.kinds": "--on",
                "policy.code_locations": "--code-location",
                "policy.run_tags": "--tag",
                "policy.name": "NAME",
            },
        )
    )

    listing = commands.add_parser("list", help="the deployment's alert policies")
    add_api_options(listing)
    listing.set_defaults(handler=api_command(list_policies))

    delete = commands.add_parser("delete", help="delete a policy and its queued alerts")
    delete.add_argument("policy_id", metavar="ID")
    add_api_options(delete)
    delete.set_defaults(handler=api_command(delete_policy))

    deliveries = commands.add_parser("deliveries", help="the delivery log, newest first")
    deliveries.add_argument("--policy", default="", metavar="ID", help="only this policy's")
    deliveries.add_argument("--status", choices=STATUSES, help="only deliveries in this status")
    deliveries.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    add_api_options(deliveries)
    deliveries.set_defaults(handler=api_command(list_deliveries))


def create_policy(args: argparse.Namespace) -> int:
    policy: dict[str, Any] = {
        "name": args.name,
        "webhookUrl": args.webhook,
        "kinds": [_kind_enum(kind) for kind in args.kinds],
        "bodyFormat": "ALERT_BODY_FORMAT_SLACK" if args.slack else "ALERT_BODY_FORMAT_JSON",
    }
    if args.code_locations:
        policy["codeLocations"] = args.code_locations
    if tags := parse_tags(args.tag):
        policy["runTags"] = tags
    created = client_for(args).call("CreateAlertPolicy", {"policy": policy})["policy"]
    print(f"Created alert policy {created['policyId']} ({created['name']}) posting to "
          f"{created['webhookUrl']}")  # fmt: skip
    return 0


def list_policies(args: argparse.Namespace) -> int:
    policies = client_for(args).call("ListAlertPolicies", {}).get("policies", [])
    rows = [
        [
            policy.get("policyId", ""),
            policy.get("name", ""),
            ",".join(_kind_name(kind) for kind in policy.get("kinds", [])),
            ",".join(policy.get("codeLocations", [])) or "*",
            ",".join(f"{k}={v}" for k, v in sorted(policy.get("runTags", {}).items())) or "-",
            str(policy.get("bodyFormat", "")).removeprefix("ALERT_BODY_FORMAT_"),
            policy.get("webhookUrl", ""),
        ]
        for policy in policies
    ]
    print(table(["ID", "NAME", "ON", "LOCATIONS", "TAGS", "BODY", "WEBHOOK"], rows))
    return 0


def delete_policy(args: argparse.Namespace) -> int:
    client_for(args).call("DeleteAlertPolicy", {"policyId": args.policy_id})
    print(f"Deleted alert policy {args.policy_id}")
    return 0


def list_deliveries(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"limit": args.limit}
    if args.policy:
        request["policyId"] = args.policy
    if args.status:
        request["status"] = f"ALERT_DELIVERY_STATUS_{args.status.upper()}"
    deliveries = client_for(args).call("ListAlertDeliveries", request).get("deliveries", [])
    rows = [
        [
            delivery.get("deliveryId", ""),
            when(delivery.get("createdAt")),
            delivery.get("policyId", ""),
            _kind_name(delivery.get("kind", "")),
            str(delivery.get("status", "")).removeprefix("ALERT_DELIVERY_STATUS_"),
            delivery.get("attemptCount", 0),
            shorten(delivery.get("lastError", "") or "-", 60),
            shorten(str(delivery.get("event", {}).get("summary", "")), 80),
        ]
        for delivery in deliveries
    ]
    print(table(["ID", "CREATED", "POLICY", "KIND", "STATUS", "TRIES", "ERROR", "SUMMARY"], rows))
    return 0


def _kind_enum(kind: str) -> str:
    return "ALERT_EVENT_KIND_" + kind.upper().replace("-", "_")


def _kind_name(kind: str) -> str:
    return str(kind).removeprefix("ALERT_EVENT_KIND_").lower().replace("_", "-")
