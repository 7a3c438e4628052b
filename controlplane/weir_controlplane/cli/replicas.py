"""`weir replicas list`: the control-plane replicas sharing the database, over the API.

weir replicas list    # ID, STATE, REPORTING ADDRESS, HOST, PID, LAST HEARTBEAT, TAKEN OVER BY
"""

from __future__ import annotations

import argparse

from weir_controlplane.cli.output import table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for


def register(subparsers: argparse._SubParsersAction) -> None:
    replicas = subparsers.add_parser(
        "replicas", help="the control-plane replicas sharing the database"
    )
    commands = replicas.add_subparsers(dest="replicas_command", metavar="COMMAND")
    commands.required = True
    listing = commands.add_parser(
        "list", help="live, dead and stopped replicas of the last hour, and who took over"
    )
    add_api_options(listing)
    listing.set_defaults(handler=api_command(list_replicas, None))


def list_replicas(args: argparse.Namespace) -> int:
    reply = client_for(args).call("ListControlPlaneReplicas", {})
    answered_by = reply.get("answeredBy", "")
    rows = [
        [
            r["replicaId"] + (" *" if r["replicaId"] == answered_by else ""),
            r.get("state", "").removeprefix("CONTROL_PLANE_REPLICA_STATE_"),
            r.get("reportingAddress", ""),
            r.get("hostname", ""),
            r.get("pid", ""),
            when(r.get("lastHeartbeatAt")),
            r.get("takenOverBy", ""),
        ]
        for r in reply.get("replicas", [])
    ]
    headers = ["ID", "STATE", "REPORTING ADDRESS", "HOST", "PID", "LAST HEARTBEAT", "TAKEN OVER BY"]
    print(table(headers, rows))
    if answered_by:
        print("* answered this request")
    return 0
