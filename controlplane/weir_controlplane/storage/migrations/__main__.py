"""`python -m weir_controlplane.storage.migrations revision -m MESSAGE`.

Autogenerates the next numbered revision by comparing `schema.py` with a scratch
SQLite database migrated to the current head. Review it, then run the test suite:
it checks the result on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from weir_controlplane.storage.engine import Database, create_engine
from weir_controlplane.storage.migrations.runner import alembic_config, upgrade_to_head


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m weir_controlplane.storage.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate the next migration")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        upgrade_to_head(engine)
        with Database(engine).write() as conn:
            config = alembic_config(conn)
            heads = ScriptDirectory.from_config(config).get_heads()
            next_id = f"{max((int(head) for head in heads), default=0) + 1:04d}"
            command.revision(config, message=args.message, autogenerate=True, rev_id=next_id)
        engine.dispose()


if __name__ == "__main__":
    main()
