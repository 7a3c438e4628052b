"""ListControlPlaneReplicas: the replicas sharing the database, from the membership table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert
from weir_controlplane.storage.replicas import Replica, ReplicaStorage


class ReplicasApi:
    def __init__(self, replicas: ReplicaStorage, replica_id: Callable[[], str]) -> None:
        self._replicas = replicas
        self._replica_id = replica_id  # known once this replica registered

    def list_replicas(
        self, request: cp.ListControlPlaneReplicasRequest
    ) -> cp.ListControlPlaneReplicasResponse:
        now = datetime.now(UTC)
        replicas = self._replicas.list_replicas(now=now)
        return cp.ListControlPlaneReplicasResponse(
            replicas=[replica_message(replica, now) for replica in replicas],
            answered_by=self._replica_id(),
        )


def replica_message(replica: Replica, now: datetime) -> cp.ControlPlaneReplica:
    if replica.stopped_at is not None:
        state = cp.CONTROL_PLANE_REPLICA_STATE_STOPPED
    elif replica.live(now):
        state = cp.CONTROL_PLANE_REPLICA_STATE_LIVE
    else:
        state = cp.CONTROL_PLANE_REPLICA_STATE_DEAD
    message = cp.ControlPlaneReplica(
        replica_id=replica.replica_id,
        state=state,
        reporting_address=replica.reporting_address,
        http_address=replica.http_address,
        hostname=replica.hostname,
        pid=replica.pid,
        started_at=convert.timestamp(replica.started_at),
        last_heartbeat_at=convert.timestamp(replica.last_beat_at),
        lease_until=convert.timestamp(replica.lease_until),
        taken_over_by=replica.taken_over_by or "",
    )
    if replica.taken_over_at is not None:
        message.taken_over_at.CopyFrom(convert.timestamp(replica.taken_over_at))
    return message
