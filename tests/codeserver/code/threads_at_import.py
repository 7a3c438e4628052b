"""User code that starts a thread when imported, as some client libraries do."""

import threading

import weir as dg

_stop = threading.Event()
threading.Thread(target=_stop.wait, name="client-pool", daemon=True).start()


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


defs = dg.Definitions(assets=[numbers])
