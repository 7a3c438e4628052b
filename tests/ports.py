"""Ports for servers a test starts later, chosen so parallel test workers never collide.

A port from bind(0) comes from the kernel's ephemeral range, where an outgoing
connection of either pytest-xdist worker may take it between the choice and the server's
own bind ("Address already in use"). These come from below that range instead, from a
block of their own per worker (PYTEST_XDIST_WORKER gw0, gw1, ...), each checked free by
a bind. `make test` puts this folder on sys.path (pytest's `pythonpath`).
"""

from __future__ import annotations

import itertools
import os
import random
import socket

FIRST, LAST = 20000, 32000  # below Linux's default ephemeral range, 32768-60999


def _block() -> range:
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (LAST - FIRST) // max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    return range(FIRST + index * size, FIRST + (index + 1) * size)


def _cycle() -> itertools.cycle[int]:
    """The block's ports from a random start: several suites on one machine (two
    checkouts, say) then rarely try the same port at the same moment."""
    block = _block()
    start = random.randrange(len(block))
    return itertools.cycle([*block[start:], *block[:start]])


_candidates = _cycle()


def free_port() -> int:
    """A loopback port nothing listens on, that no other worker will hand out."""
    for port in _candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken (a service, or a server of this worker): the next one
        return port
    raise AssertionError("unreachable: the candidates cycle")
