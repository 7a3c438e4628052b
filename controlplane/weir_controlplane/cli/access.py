"""`weir deployments …` and `weir tokens …`: tenancy and access over the API.

weir deployments create pr-1234 --base prod --expires-in 604800
weir deployments list | delete pr-1234
weir tokens create --role launcher --name ci [--location finance] [--expires-in 86400]
weir tokens list | revoke tok_…
"""

from __future__ import annotations

import argparse
from typing import Any

from weir_controlplane.cli.output import table, when
from weir_controlplane.cli.remote import add_api_options, api_command, client_for

# weir.v1.Role without its prefix, lower case (a test pins it to the proto enum).
ROLE_NAMES = ["viewer", "launcher", "editor", "admin", "org_admin", "agent"]


def register(subparsers: argparse._SubParsersAction) -> None:
    deployments = subparsers.add_parser("deployments", help="create, list and delete deployments")
    commands = deployments.add_subparsers(dest="deployments_command", metavar="COMMAND")
    commands.required = True
    create = commands.add_parser("create", help="create a deployment (a branch one with --base)")
    create.add_argument("name")
    create.add_argument("--base", default="", help="make it a branch deployment of this one")
    create.add_argument("--expires-in", type=int, default=0, metavar="SECONDS")
    _api(
        create,
        create_deployment,
        {"baseDeployment": "--base", "expiresInSeconds": "--expires-in"},
    )
    _api(commands.add_parser("list", help="the deployments you hold a role in"), list_deployments)
    delete = commands.add_parser("delete", help="delete a deployment and everything in it")
    delete.add_argument("name")
    _api(delete, delete_deployment)

    tokens = subparsers.add_parser("tokens", help="create, list and revoke API tokens")
    commands = tokens.add_subparsers(dest="tokens_command", metavar="COMMAND")
    commands.required = True
    create = commands.add_parser("create", help="create a token; its secret is shown once")
    create.add_argument("--role", required=True, choices=ROLE_NAMES)
    create.add_argument("--name", required=True)
    create.add_argument("--expires-in", type=int, default=0, metavar="SECONDS")
    create.add_argument(
        "--location", action="append", default=[], help="narrow the role to a code location"
    )
    _api(
        create,
        create_token,
        {"expiresInSeconds": "--expires-in", "codeLocations": "--location", "role": "--role"},
    )
    listing = commands.add_parser("list", help="the deployment's tokens (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    _api(listing, list_tokens)
    revoke = commands.add_parser("revoke", help="revoke a token from the next request on")
    revoke.add_argument("token_id", metavar="TOKEN_ID")
    _api(revoke, revoke_token, {"tokenId": "TOKEN_ID"})


def _api(parser: argparse.ArgumentParser, run: Any, flags: dict[str, str] | None = None) -> None:
    add_api_options(parser)
    parser.set_defaults(handler=api_command(run, flags))


def create_deployment(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"name": args.name}
    if args.base:
        request["baseDeployment"] = args.base
    if args.expires_in:
        request["expiresInSeconds"] = args.expires_in
    deployment = client_for(args).call("CreateDeployment", request)["deployment"]
    print(f"Created deployment {deployment['name']}" + _expiry(deployment))
    return 0


def list_deployments(args: argparse.Namespace) -> int:
    found = client_for(args).call("ListDeployments", {}).get("deployments", [])
    rows = [
        [
            d["name"],
            d.get("baseDeployment", ""),
            when(d.get("createTime")),
            when(d.get("expireTime")),
        ]
        for d in found
    ]
    print(table(["NAME", "BASE", "CREATED", "EXPIRES"], rows))
    return 0


def delete_deployment(args: argparse.Namespace) -> int:
    client_for(args).call("DeleteDeployment", {"name": args.name})
    print(f"Deleted deployment {args.name} and everything in it")
    return 0


def create_token(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"role": f"ROLE_{args.role.upper()}", "name": args.name}
    if args.expires_in:
        request["expiresInSeconds"] = args.expires_in
    if args.location:
        request["codeLocations"] = args.location
    reply = client_for(args).call("CreateToken", request)
    token = reply["token"]
    scope = f" in {token['deployment']}" if token.get("deployment") else " (organization)"
    print(f"Created token {token['tokenId']} ({args.role}{scope}). Its secret, shown only now:")
    print(reply["secret"])
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    reply = client_for(args).call("ListTokens", {"includeRevoked": args.all})
    rows = [
        [
            t["tokenId"],
            t["name"],
            t.get("role", "").removeprefix("ROLE_").lower(),
            ",".join(t.get("codeLocations", [])) or "all",
            when(t.get("createTime")),
            when(t.get("lastUsedTime")),
            when(t.get("expireTime")),
            "revoked" if t.get("revokeTime") else "",
        ]
        for t in reply.get("tokens", [])
    ]
    headers = ["ID", "NAME", "ROLE", "LOCATIONS", "CREATED", "LAST USED", "EXPIRES", ""]
    print(table(headers, rows))
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    client_for(args).call("RevokeToken", {"tokenId": args.token_id})
    print(f"Revoked token {args.token_id}")
    return 0


def _expiry(deployment: dict[str, Any]) -> str:
    expires = deployment.get("expireTime")
    return f" (expires {when(expires)})" if expires else ""
