"""A code location whose one asset writes the environment its run worker sees to
$E2E_CONTROL/worker_env.json: the auth tests check no control-plane secret is in it."""

import json
import os
from pathlib import Path

import weir as dg


@dg.asset
def env_probe() -> int:
    Path(os.environ["E2E_CONTROL"], "worker_env.json").write_text(json.dumps(dict(os.environ)))
    return 1


defs = dg.Definitions(assets=[env_probe])
