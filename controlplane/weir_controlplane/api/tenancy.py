"""Deployment RPCs: CreateDeployment, ListDeployments, DeleteDeployment."""

from __future__ import annotations

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import tenancy_pb2

from weir_controlplane.api import convert
from weir_controlplane.api.context import current_principal
from weir_controlplane.auth import policy
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.storage import Deployment, DeploymentStorage
from weir_controlplane.tenancy import DeploymentService


class DeploymentsApi:
    def __init__(self, deployments: DeploymentStorage, service: DeploymentService) -> None:
        self._deployments = deployments
        self._service = service

    def create_deployment(self, request: cp.CreateDeploymentRequest) -> cp.CreateDeploymentResponse:
        deployment = self._service.create(
            current_principal().organization_id,
            request.name,
            base=request.base_deployment or None,
            expires_in_seconds=request.expires_in_seconds,
        )
        return cp.CreateDeploymentResponse(deployment=deployment_proto(deployment))

    def list_deployments(self, request: cp.ListDeploymentsRequest) -> cp.ListDeploymentsResponse:
        principal = current_principal()
        visible = [
            deployment
            for deployment in self._deployments.in_organization(principal.organization_id)
            if policy.allows(principal, Permission.SIGNED_IN, deployment.name)
        ]
        return cp.ListDeploymentsResponse(deployments=[deployment_proto(d) for d in visible])

    def delete_deployment(self, request: cp.DeleteDeploymentRequest) -> cp.DeleteDeploymentResponse:
        if not request.name:
            raise InvalidArgumentError("name is required: the deployment to delete")
        deployment = self._deployments.get(
            request.name, organization_id=current_principal().organization_id
        )
        self._service.delete(deployment)
        return cp.DeleteDeploymentResponse()


def deployment_proto(deployment: Deployment) -> tenancy_pb2.Deployment:
    message = tenancy_pb2.Deployment(
        name=deployment.name,
        base_deployment=deployment.base_deployment or "",
        create_time=convert.timestamp(deployment.created_at),
    )
    if deployment.expires_at is not None:
        message.expire_time.CopyFrom(convert.timestamp(deployment.expires_at))
    return message
