"""GetAutomationEvaluations: an asset's evaluation history, newest first.

The asset must be defined by a code location the caller may read (as for GetAsset); the
records are what the automation evaluator stored (automation/daemon.py).
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from weir_protos.v1 import automation_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert, paging
from weir_controlplane.api.access_checks import visible_locations
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.context import current_scope
from weir_controlplane.errors import InvalidArgumentError, NotFoundError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.storage.automation import AutomationStorage, EvaluationRecord


class AutomationApi:
    def __init__(self, registry: CodeLocationRegistry, automation: AutomationStorage) -> None:
        self._registry = registry
        self._automation = automation

    def get_automation_evaluations(
        self, request: cp.GetAutomationEvaluationsRequest
    ) -> cp.GetAutomationEvaluationsResponse:
        scope = current_scope()
        if not request.key.path:
            raise InvalidArgumentError("key is required: the asset whose evaluations to list")
        key = convert.key_text(request.key)
        graphs = self._registry.all_graphs(scope)
        visible = visible_locations()
        if visible is not None:  # a grant narrowed to code locations sees only theirs
            graphs = {name: graph for name, graph in graphs.items() if name in visible}
        if DeploymentGraph.of(graphs).node(key) is None:
            raise NotFoundError(
                f"asset {key!r} is not defined by any code location of deployment {scope.name!r}"
            )
        page = self._automation.list_evaluations(
            scope, key, cursor=request.cursor or None, limit=paging.page_size(request.limit)
        )
        found = [_message(record) for record in page.items]
        fitting = paging.fitting(found)
        next_cursor = page.next_cursor or ""
        if fitting < len(found):  # too big for one reply: the page ends early
            found = found[:fitting]
            next_cursor = (
                self._automation.list_evaluations(
                    scope, key, cursor=request.cursor or None, limit=fitting
                ).next_cursor
                or ""
            )
        return cp.GetAutomationEvaluationsResponse(evaluations=found, next_cursor=next_cursor)


def _message(record: EvaluationRecord) -> automation_pb2.AutomationEvaluation:
    evaluated = Timestamp()
    evaluated.FromDatetime(record.evaluated_at)
    message = automation_pb2.AutomationEvaluation(
        key=convert.key_proto(record.asset_key),
        evaluation_id=record.evaluation_id,
        tick_number=record.tick_number,
        evaluate_time=evaluated,
        requested_count=record.requested_count,
        requested_partition_keys=record.requested_partitions,
        run_ids=record.run_ids,
        error=record.error or "",
    )
    if record.body:
        message.condition.ParseFromString(record.body)
    return message
