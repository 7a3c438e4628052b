"""ControlPlaneService: the gRPC servicer both transports call, one method per RPC.

Each method hands its request to the service object for its area (code locations,
assets, runs, deployments, access, schedules and sensors); the interceptors have already
authenticated and authorized the call, set its deployment scope, and will map any error
raised. Unary methods are synchronous and run in a worker thread; WatchRun is an
async generator on the transport's event loop. A test fails if an RPC of the service
descriptor has no method here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc

from weir_controlplane.api.access import AccessApi
from weir_controlplane.api.alerts import AlertsApi
from weir_controlplane.api.assets import AssetsApi
from weir_controlplane.api.automation import AutomationApi
from weir_controlplane.api.backfills import BackfillsApi
from weir_controlplane.api.code_locations import CodeLocationsApi
from weir_controlplane.api.health import HealthApi
from weir_controlplane.api.instigators import InstigatorsApi
from weir_controlplane.api.partitions import PartitionsApi
from weir_controlplane.api.replicas import ReplicasApi
from weir_controlplane.api.reply_cache import Reply
from weir_controlplane.api.runs import RunsApi
from weir_controlplane.api.tenancy import DeploymentsApi


class ControlPlaneServicer(cp_grpc.ControlPlaneServiceServicer):
    def __init__(
        self,
        code_locations: CodeLocationsApi,
        assets: AssetsApi,
        runs: RunsApi,
        deployments: DeploymentsApi,
        access: AccessApi,
        instigators: InstigatorsApi,
        partitions: PartitionsApi,
        automation: AutomationApi,
        backfills: BackfillsApi,
        replicas: ReplicasApi,
        alerts: AlertsApi,
        health: HealthApi,
    ) -> None:
        self._code_locations = code_locations
        self._assets = assets
        self._runs = runs
        self._deployments = deployments
        self._access = access
        self._instigators = instigators
        self._partitions = partitions
        self._automation = automation
        self._backfills = backfills
        self._replicas = replicas
        self._alerts = alerts
        self._health = health

    # --- code locations -----------------------------------------------------------------

    def ListCodeLocations(
        self, request: cp.ListCodeLocationsRequest, context: Any
    ) -> cp.ListCodeLocationsResponse:
        return self._code_locations.list_code_locations(request)

    def ReloadCodeLocation(
        self, request: cp.ReloadCodeLocationRequest, context: Any
    ) -> cp.ReloadCodeLocationResponse:
        return self._code_locations.reload_code_location(request)

    def CreateCodeLocation(
        self, request: cp.CreateCodeLocationRequest, context: Any
    ) -> cp.CreateCodeLocationResponse:
        return self._code_locations.create_code_location(request)

    def DeleteCodeLocation(
        self, request: cp.DeleteCodeLocationRequest, context: Any
    ) -> cp.DeleteCodeLocationResponse:
        return self._code_locations.delete_code_location(request)

    # --- assets -------------------------------------------------------------------------

    def ListAssets(
        self, request: cp.ListAssetsRequest, context: Any
    ) -> Reply[cp.ListAssetsResponse]:
        return self._assets.list_assets(request)

    def GetAsset(self, request: cp.GetAssetRequest, context: Any) -> cp.GetAssetResponse:
        return self._assets.get_asset(request)

    def GetAssetLineage(
        self, request: cp.GetAssetLineageRequest, context: Any
    ) -> Reply[cp.GetAssetLineageResponse]:
        return self._assets.get_asset_lineage(request)

    def ListMaterializations(
        self, request: cp.ListMaterializationsRequest, context: Any
    ) -> cp.ListMaterializationsResponse:
        return self._assets.list_materializations(request)

    def GetAssetGraphLayout(
        self, request: cp.GetAssetGraphLayoutRequest, context: Any
    ) -> cp.GetAssetGraphLayoutResponse:
        return self._assets.get_asset_graph_layout(request)

    # --- partitions ---------------------------------------------------------------------

    def GetPartitionStatus(
        self, request: cp.GetPartitionStatusRequest, context: Any
    ) -> cp.GetPartitionStatusResponse:
        return self._partitions.get_partition_status(request)

    def GetPartitionKeys(
        self, request: cp.GetPartitionKeysRequest, context: Any
    ) -> cp.GetPartitionKeysResponse:
        return self._partitions.get_partition_keys(request)

    def AddDynamicPartitions(
        self, request: cp.AddDynamicPartitionsRequest, context: Any
    ) -> cp.AddDynamicPartitionsResponse:
        return self._partitions.add_dynamic_partitions(request)

    def DeleteDynamicPartitions(
        self, request: cp.DeleteDynamicPartitionsRequest, context: Any
    ) -> cp.DeleteDynamicPartitionsResponse:
        return self._partitions.delete_dynamic_partitions(request)

    def ListDynamicPartitions(
        self, request: cp.ListDynamicPartitionsRequest, context: Any
    ) -> cp.ListDynamicPartitionsResponse:
        return self._partitions.list_dynamic_partitions(request)

    # --- health -------------------------------------------------------------------------

    def GetAssetHealth(
        self, request: cp.GetAssetHealthRequest, context: Any
    ) -> cp.GetAssetHealthResponse:
        return self._health.get_asset_health(request)

    def GetDeploymentHealth(
        self, request: cp.GetDeploymentHealthRequest, context: Any
    ) -> cp.GetDeploymentHealthResponse:
        return self._health.get_deployment_health(request)

    def ListCheckEvaluations(
        self, request: cp.ListCheckEvaluationsRequest, context: Any
    ) -> cp.ListCheckEvaluationsResponse:
        return self._health.list_check_evaluations(request)

    # --- automation ---------------------------------------------------------------------

    def GetAutomationEvaluations(
        self, request: cp.GetAutomationEvaluationsRequest, context: Any
    ) -> cp.GetAutomationEvaluationsResponse:
        return self._automation.get_automation_evaluations(request)

    # --- runs ---------------------------------------------------------------------------

    def LaunchRun(self, request: cp.LaunchRunRequest, context: Any) -> cp.LaunchRunResponse:
        return self._runs.launch_run(request)

    def GetRun(self, request: cp.GetRunRequest, context: Any) -> cp.GetRunResponse:
        return self._runs.get_run(request)

    def ListRuns(self, request: cp.ListRunsRequest, context: Any) -> cp.ListRunsResponse:
        return self._runs.list_runs(request)

    def CancelRun(self, request: cp.CancelRunRequest, context: Any) -> cp.CancelRunResponse:
        return self._runs.cancel_run(request)

    def GetRunEvents(
        self, request: cp.GetRunEventsRequest, context: Any
    ) -> cp.GetRunEventsResponse:
        return self._runs.get_run_events(request)

    async def WatchRun(
        self, request: cp.WatchRunRequest, context: Any
    ) -> AsyncIterator[cp.WatchRunResponse]:
        async with aclosing(self._runs.watch_run(request)) as replies:
            async for reply in replies:
                yield reply

    # --- backfills ---------------------------------------------------------------------

    def LaunchBackfill(
        self, request: cp.LaunchBackfillRequest, context: Any
    ) -> cp.LaunchBackfillResponse:
        return self._backfills.launch_backfill(request)

    def GetBackfill(self, request: cp.GetBackfillRequest, context: Any) -> cp.GetBackfillResponse:
        return self._backfills.get_backfill(request)

    def ListBackfills(
        self, request: cp.ListBackfillsRequest, context: Any
    ) -> cp.ListBackfillsResponse:
        return self._backfills.list_backfills(request)

    def CancelBackfill(
        self, request: cp.CancelBackfillRequest, context: Any
    ) -> cp.CancelBackfillResponse:
        return self._backfills.cancel_backfill(request)

    def ResumeBackfill(
        self, request: cp.ResumeBackfillRequest, context: Any
    ) -> cp.ResumeBackfillResponse:
        return self._backfills.resume_backfill(request)

    # --- high availability -------------------------------------------------------------

    def ListControlPlaneReplicas(
        self, request: cp.ListControlPlaneReplicasRequest, context: Any
    ) -> cp.ListControlPlaneReplicasResponse:
        return self._replicas.list_replicas(request)

    # --- deployments --------------------------------------------------------------------

    def CreateDeployment(
        self, request: cp.CreateDeploymentRequest, context: Any
    ) -> cp.CreateDeploymentResponse:
        return self._deployments.create_deployment(request)

    def ListDeployments(
        self, request: cp.ListDeploymentsRequest, context: Any
    ) -> cp.ListDeploymentsResponse:
        return self._deployments.list_deployments(request)

    def DeleteDeployment(
        self, request: cp.DeleteDeploymentRequest, context: Any
    ) -> cp.DeleteDeploymentResponse:
        return self._deployments.delete_deployment(request)

    # --- tokens, role bindings, audit log -----------------------------------------------

    def CreateToken(self, request: cp.CreateTokenRequest, context: Any) -> cp.CreateTokenResponse:
        return self._access.create_token(request)

    def ListTokens(self, request: cp.ListTokensRequest, context: Any) -> cp.ListTokensResponse:
        return self._access.list_tokens(request)

    def RevokeToken(self, request: cp.RevokeTokenRequest, context: Any) -> cp.RevokeTokenResponse:
        return self._access.revoke_token(request)

    def CreateRoleBinding(
        self, request: cp.CreateRoleBindingRequest, context: Any
    ) -> cp.CreateRoleBindingResponse:
        return self._access.create_role_binding(request)

    def ListRoleBindings(
        self, request: cp.ListRoleBindingsRequest, context: Any
    ) -> cp.ListRoleBindingsResponse:
        return self._access.list_role_bindings(request)

    def DeleteRoleBinding(
        self, request: cp.DeleteRoleBindingRequest, context: Any
    ) -> cp.DeleteRoleBindingResponse:
        return self._access.delete_role_binding(request)

    def GetCallerPermissions(
        self, request: cp.GetCallerPermissionsRequest, context: Any
    ) -> cp.GetCallerPermissionsResponse:
        return self._access.get_caller_permissions(request)

    def ListAuditLog(
        self, request: cp.ListAuditLogRequest, context: Any
    ) -> cp.ListAuditLogResponse:
        return self._access.list_audit_log(request)

    # --- schedules, sensors, ticks ------------------------------------------------------

    def ListSchedules(
        self, request: cp.ListSchedulesRequest, context: Any
    ) -> cp.ListSchedulesResponse:
        return self._instigators.list_schedules(request)

    def StartSchedule(
        self, request: cp.StartScheduleRequest, context: Any
    ) -> cp.StartScheduleResponse:
        return self._instigators.start_schedule(request)

    def StopSchedule(
        self, request: cp.StopScheduleRequest, context: Any
    ) -> cp.StopScheduleResponse:
        return self._instigators.stop_schedule(request)

    def ListSensors(self, request: cp.ListSensorsRequest, context: Any) -> cp.ListSensorsResponse:
        return self._instigators.list_sensors(request)

    def StartSensor(self, request: cp.StartSensorRequest, context: Any) -> cp.StartSensorResponse:
        return self._instigators.start_sensor(request)

    def StopSensor(self, request: cp.StopSensorRequest, context: Any) -> cp.StopSensorResponse:
        return self._instigators.stop_sensor(request)

    def SetSensorCursor(
        self, request: cp.SetSensorCursorRequest, context: Any
    ) -> cp.SetSensorCursorResponse:
        return self._instigators.set_sensor_cursor(request)

    def ListTicks(self, request: cp.ListTicksRequest, context: Any) -> cp.ListTicksResponse:
        return self._instigators.list_ticks(request)

    # --- alerts -------------------------------------------------------------------------

    def CreateAlertPolicy(
        self, request: cp.CreateAlertPolicyRequest, context: Any
    ) -> cp.CreateAlertPolicyResponse:
        return self._alerts.create_alert_policy(request)

    def ListAlertPolicies(
        self, request: cp.ListAlertPoliciesRequest, context: Any
    ) -> cp.ListAlertPoliciesResponse:
        return self._alerts.list_alert_policies(request)

    def DeleteAlertPolicy(
        self, request: cp.DeleteAlertPolicyRequest, context: Any
    ) -> cp.DeleteAlertPolicyResponse:
        return self._alerts.delete_alert_policy(request)

    def ListAlertDeliveries(
        self, request: cp.ListAlertDeliveriesRequest, context: Any
    ) -> cp.ListAlertDeliveriesResponse:
        return self._alerts.list_alert_deliveries(request)
