"""python -m weir_codeserver.celery worker -f defs.py ..."""

from __future__ import annotations

import sys

from weir_codeserver.celery.worker_cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "worker":
        print("usage: python -m weir_codeserver.celery worker -f defs.py [...]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args[1:]))
