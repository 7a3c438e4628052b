"""The permission table: every RPC of every service the control plane serves, and what
it takes to call it.

The authorization interceptor enforces a row before the method runs; a method without
a row is refused (and a test fails when the services gain an RPC this table lacks).
A row says:

- `permission`: what the caller must hold in the call's deployment (on at least one
  code location; the services check the object's own location where one exists);
- `mutation`: whether the call is written to the audit log;
- `deployment_field`: the request field naming the deployment the call acts on, when
  it is not the `x-weir-deployment` header's (a token's deployment, say);
- `organization_wide`: the call acts on the organization, not on one deployment;
- `target`: where the audit log finds what the call acted on: a request field, or
  "reply." and a path into the reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from weir_controlplane.auth.roles import Permission

P = Permission
_CONTROL_PLANE = "/weir.v1.ControlPlaneService/"
_REPORTING = "/weir.v1.RunReportingService/"


@dataclass(frozen=True)
class Rule:
    permission: Permission
    mutation: bool = False
    deployment_field: str | None = None
    organization_wide: bool = False
    target: str | None = None


PERMISSIONS: dict[str, Rule] = {
    # ---- code locations
    f"{_CONTROL_PLANE}ListCodeLocations": Rule(P.READ),
    f"{_CONTROL_PLANE}ReloadCodeLocation": Rule(P.DEPLOY_LOCATIONS, mutation=True, target="name"),
    f"{_CONTROL_PLANE}CreateCodeLocation": Rule(P.DEPLOY_LOCATIONS, mutation=True, target="name"),
    f"{_CONTROL_PLANE}DeleteCodeLocation": Rule(P.EDIT, mutation=True, target="name"),
    # ---- assets
    f"{_CONTROL_PLANE}ListAssets": Rule(P.READ),
    f"{_CONTROL_PLANE}GetAsset": Rule(P.READ),
    f"{_CONTROL_PLANE}GetAssetLineage": Rule(P.READ),
    f"{_CONTROL_PLANE}ListMaterializations": Rule(P.READ),
    f"{_CONTROL_PLANE}GetAssetGraphLayout": Rule(P.READ),
    # ---- health
    f"{_CONTROL_PLANE}GetAssetHealth": Rule(P.READ),
    f"{_CONTROL_PLANE}GetDeploymentHealth": Rule(P.READ),
    f"{_CONTROL_PLANE}ListCheckEvaluations": Rule(P.READ),
    # ---- runs
    f"{_CONTROL_PLANE}LaunchRun": Rule(P.LAUNCH, mutation=True, target="reply.run.run_id"),
    f"{_CONTROL_PLANE}GetRun": Rule(P.READ),
    f"{_CONTROL_PLANE}ListRuns": Rule(P.READ),
    f"{_CONTROL_PLANE}CancelRun": Rule(P.LAUNCH, mutation=True, target="run_id"),
    f"{_CONTROL_PLANE}GetRunEvents": Rule(P.READ),
    f"{_CONTROL_PLANE}WatchRun": Rule(P.READ),
    # ---- partitions
    f"{_CONTROL_PLANE}GetPartitionStatus": Rule(P.READ),
    f"{_CONTROL_PLANE}GetPartitionKeys": Rule(P.READ),
    f"{_CONTROL_PLANE}AddDynamicPartitions": Rule(
        P.EDIT, mutation=True, target="partitions_def_name"
    ),
    f"{_CONTROL_PLANE}DeleteDynamicPartitions": Rule(
        P.EDIT, mutation=True, target="partitions_def_name"
    ),
    f"{_CONTROL_PLANE}ListDynamicPartitions": Rule(P.READ),
    # ---- automation
    f"{_CONTROL_PLANE}GetAutomationEvaluations": Rule(P.READ),
    # ---- backfills
    f"{_CONTROL_PLANE}LaunchBackfill": Rule(P.LAUNCH, mutation=True, target="reply.backfill_id"),
    f"{_CONTROL_PLANE}GetBackfill": Rule(P.READ),
    f"{_CONTROL_PLANE}ListBackfills": Rule(P.READ),
    f"{_CONTROL_PLANE}CancelBackfill": Rule(P.LAUNCH, mutation=True, target="backfill_id"),
    f"{_CONTROL_PLANE}ResumeBackfill": Rule(P.LAUNCH, mutation=True, target="backfill_id"),
    # ---- high availability
    f"{_CONTROL_PLANE}ListControlPlaneReplicas": Rule(P.READ),
    # ---- deployments
    f"{_CONTROL_PLANE}CreateDeployment": Rule(
        P.MANAGE_DEPLOYMENTS, mutation=True, organization_wide=True, target="name"
    ),
    f"{_CONTROL_PLANE}ListDeployments": Rule(P.SIGNED_IN, organization_wide=True),
    f"{_CONTROL_PLANE}DeleteDeployment": Rule(
        P.MANAGE_DEPLOYMENTS, mutation=True, organization_wide=True, target="name"
    ),
    # ---- tokens, role bindings, audit log
    f"{_CONTROL_PLANE}CreateToken": Rule(
        P.MANAGE_ACCESS, mutation=True, deployment_field="deployment", target="reply.token.token_id"
    ),
    f"{_CONTROL_PLANE}ListTokens": Rule(P.MANAGE_ACCESS, deployment_field="deployment"),
    # The token's own deployment is checked by the service (it is known only from storage).
    f"{_CONTROL_PLANE}RevokeToken": Rule(P.MANAGE_ACCESS, mutation=True, target="token_id"),
    f"{_CONTROL_PLANE}CreateRoleBinding": Rule(
        P.MANAGE_ACCESS,
        mutation=True,
        deployment_field="deployment",
        target="reply.role_binding.binding_id",
    ),
    f"{_CONTROL_PLANE}ListRoleBindings": Rule(P.MANAGE_ACCESS, deployment_field="deployment"),
    f"{_CONTROL_PLANE}DeleteRoleBinding": Rule(P.MANAGE_ACCESS, mutation=True, target="binding_id"),
    # What the caller itself holds: any signed-in caller may ask about itself.
    f"{_CONTROL_PLANE}GetCallerPermissions": Rule(P.SIGNED_IN),
    f"{_CONTROL_PLANE}ListAuditLog": Rule(P.MANAGE_ACCESS, deployment_field="deployment"),
    # ---- schedules, sensors, ticks (the services check the object's code location)
    f"{_CONTROL_PLANE}ListSchedules": Rule(P.READ),
    f"{_CONTROL_PLANE}StartSchedule": Rule(P.EDIT, mutation=True, target="name"),
    f"{_CONTROL_PLANE}StopSchedule": Rule(P.EDIT, mutation=True, target="name"),
    f"{_CONTROL_PLANE}ListSensors": Rule(P.READ),
    f"{_CONTROL_PLANE}StartSensor": Rule(P.EDIT, mutation=True, target="name"),
    f"{_CONTROL_PLANE}StopSensor": Rule(P.EDIT, mutation=True, target="name"),
    f"{_CONTROL_PLANE}SetSensorCursor": Rule(P.EDIT, mutation=True, target="name"),
    f"{_CONTROL_PLANE}ListTicks": Rule(P.READ),
    # ---- alerts (the service checks the policy's code locations)
    f"{_CONTROL_PLANE}CreateAlertPolicy": Rule(
        P.EDIT, mutation=True, target="reply.policy.policy_id"
    ),
    f"{_CONTROL_PLANE}ListAlertPolicies": Rule(P.READ),
    f"{_CONTROL_PLANE}DeleteAlertPolicy": Rule(P.EDIT, mutation=True, target="policy_id"),
    f"{_CONTROL_PLANE}ListAlertDeliveries": Rule(P.READ),
    # ---- run reporting: run tokens only, each for its own run (checked by the service).
    # Not audited: every report is already recorded in the run's own event log.
    f"{_REPORTING}ReportEvents": Rule(P.REPORT_RUN),
    f"{_REPORTING}Heartbeat": Rule(P.REPORT_RUN),
    # Step attempts: the run's token registers and reads them, each attempt's own token
    # claims, reports and heartbeats (checked by the service).
    f"{_REPORTING}RegisterStepAttempts": Rule(P.REPORT_RUN),
    f"{_REPORTING}GetStepAttempts": Rule(P.REPORT_RUN),
    f"{_REPORTING}ClaimStepAttempt": Rule(P.REPORT_RUN),
    f"{_REPORTING}ReportStepEvents": Rule(P.REPORT_RUN),
    f"{_REPORTING}StepHeartbeat": Rule(P.REPORT_RUN),
}


def rule_for(method: str) -> Rule | None:
    """The row of `method` ("/weir.v1.ControlPlaneService/GetRun"); None if it has none."""
    return PERMISSIONS.get(method)
