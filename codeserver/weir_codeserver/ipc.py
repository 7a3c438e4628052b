"""How the code server, its zygote and the run workers talk: two socket pairs.

- The *control* stream (server <-> zygote): framed requests ("start this run") and
  replies ("started, pid N"). Only the server writes one end and only the zygote the other.
- The *status* datagrams (zygote and workers -> server): small JSON notes, one datagram
  each, so any number of processes holding the sending end can write without
  interleaving: a worker's progress (status, last and acknowledged sequence) and the
  zygote's note that a worker exited (with its exit code).

Nothing here imports grpc: the zygote uses it before any gRPC object exists.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Mapping
from typing import Any

_LENGTH = struct.Struct("!I")


def control_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def status_pair() -> tuple[socket.socket, socket.socket]:
    """(server's receiving end, the sending end workers inherit)."""
    receiving, sending = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    # A stalled server must not freeze a worker: a note that cannot go out in time is
    # dropped (notes are advisory; events go to the control plane regardless).
    sending.settimeout(1.0)
    return receiving, sending


def send_frame(sock: socket.socket, header: Mapping[str, Any], payload: bytes = b"") -> None:
    head = json.dumps(header).encode()
    sock.sendall(_LENGTH.pack(len(head)) + head + _LENGTH.pack(len(payload)) + payload)


def recv_frame(sock: socket.socket) -> tuple[dict[str, Any], bytes] | None:
    """The next frame, or None when the other side closed the stream."""
    head_length = _recv_exact(sock, _LENGTH.size)
    if head_length is None:
        return None
    head = _recv_exact(sock, _LENGTH.unpack(head_length)[0])
    payload_length = _recv_exact(sock, _LENGTH.size)
    if head is None or payload_length is None:
        return None
    payload = _recv_exact(sock, _LENGTH.unpack(payload_length)[0])
    if payload is None:
        return None
    return json.loads(head), payload


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


class StatusSender:
    """Sends status notes from a zygote or worker process."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def __call__(self, note: Mapping[str, Any]) -> None:
        self.sock.send(json.dumps(note).encode())


def recv_status(sock: socket.socket) -> dict[str, Any] | None:
    data = sock.recv(65536)
    return json.loads(data) if data else None
