"""`weir admin bootstrap`: the first organization admin token, straight from the database.
`weir admin migrate`: bring the database's schema to this version's (what a Kubernetes
migration Job runs before an upgrade's control planes start).

Run against the control plane's database ($WEIR_HOME's SQLite, or --database-url): it
creates the organization if needed and prints a new organization-admin token alone on
its last line, so `export WEIR_TOKEN=$(weir admin bootstrap | tail -1)` works.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from weir_controlplane.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    admin = subparsers.add_parser("admin", help="administration straight on the database")
    commands = admin.add_subparsers(dest="admin_command", metavar="COMMAND")
    commands.required = True
    bootstrap = commands.add_parser(
        "bootstrap", help="create an organization admin token (printed once, on the last line)"
    )
    _database_url_option(bootstrap)
    bootstrap.add_argument("--organization", default="default", help="its name")
    bootstrap.add_argument("--name", default="bootstrap", help="the token's name")
    bootstrap.set_defaults(handler=run_bootstrap)
    migrate = commands.add_parser(
        "migrate", help="upgrade the database's schema to this version's (Alembic), then exit"
    )
    _database_url_option(migrate)
    migrate.set_defaults(handler=run_migrate)


def _database_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("WEIR_DATABASE_URL"),
        help="SQLAlchemy URL (default: SQLite under $WEIR_HOME, ~/.weir)",
    )


def run_migrate(args: argparse.Namespace) -> int:
    from weir_controlplane.cli.dev import _database_error
    from weir_controlplane.storage import Storage
    from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError
    from weir_controlplane.storage.migrations import head_revision

    try:
        # Opening migrates, under a lock, so replicas starting meanwhile wait for it.
        Storage.open(args.database_url).close()
    except (DatabaseUnavailableError, InvalidDatabaseUrlError) as exc:
        raise CommandError(_database_error(exc, args.database_url)) from None
    print(f"The database schema is at revision {head_revision()} (this version's).")
    return 0


def run_bootstrap(args: argparse.Namespace) -> int:
    from weir_controlplane.auth.roles import Role
    from weir_controlplane.auth.secrets import hash_secret, new_secret
    from weir_controlplane.cli.dev import _database_error
    from weir_controlplane.storage import NewToken, Storage
    from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError

    try:
        storage = Storage.open(args.database_url)
    except (DatabaseUnavailableError, InvalidDatabaseUrlError) as exc:
        raise CommandError(_database_error(exc, args.database_url)) from None
    try:
        organization_id = storage.deployments.ensure_organization(args.organization)
        storage.deployments.ensure_deployment("prod", organization=args.organization)
        secret = new_secret()
        token = storage.access.create_token(
            NewToken(
                organization_id=organization_id,
                kind="user",
                name=args.name,
                role=Role.ORG_ADMIN.value,
                secret_hash=hash_secret(secret),
                created_at=datetime.now(UTC),
            )
        )
    finally:
        storage.close()
    print(f"Created organization admin token {token.token_id} in organization {args.organization}.")
    print("Its secret is shown only now; send it as WEIR_TOKEN or --token:")
    print(secret)
    return 0
