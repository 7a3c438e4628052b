"""An OpenAPI 3.1 document for the HTTP API, generated from the services' descriptors.

Every RPC is a `POST /<service>/<method>` whose request and reply bodies are the
protobuf JSON mapping of its messages; the schemas follow that mapping (lowerCamelCase
names, 64-bit integers as strings, enums by name, Timestamps as RFC 3339 strings).
Served at `/openapi.json`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from weir_controlplane.api.handlers import SERVICE_NAMES

ERROR_SCHEMA = "connect.Error"

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "uint32"},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "uint32"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}

# Well-known types have JSON forms of their own.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "description": 'Seconds, e.g. "1.5s"'},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value"},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Any": {"type": "object", "additionalProperties": True},
}


# Request fields the API refuses to do without (proto3 has no `required`; the servicers
# answer INVALID_ARGUMENT "... is required"). A test checks each against the server.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "weir.v1.GetRunRequest": ("runId",),
    "weir.v1.CancelRunRequest": ("runId",),
    "weir.v1.GetRunEventsRequest": ("runId",),
    "weir.v1.WatchRunRequest": ("runId",),
    "weir.v1.ReportEventsRequest": ("runId",),
    "weir.v1.HeartbeatRequest": ("runId",),
    "weir.v1.GetAssetRequest": ("key",),
    "weir.v1.ListMaterializationsRequest": ("key",),
    "weir.v1.GetAssetHealthRequest": ("key",),
    "weir.v1.ListCheckEvaluationsRequest": ("assetKey", "checkName"),
    "weir.v1.CreateCodeLocationRequest": ("name", "address"),
    "weir.v1.ReloadCodeLocationRequest": ("name",),
    "weir.v1.DeleteCodeLocationRequest": ("name",),
}


def openapi_document() -> dict[str, Any]:
    """The whole document: one path per RPC of the served services, and their schemas."""
    from weir_protos.v1 import control_plane_pb2, reporting_pb2

    schemas: dict[str, Any] = {
        ERROR_SCHEMA: {
            "type": "object",
            "description": "A Connect error; the HTTP status follows from the code.",
            "properties": {
                "code": {"type": "string", "example": "invalid_argument"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["code"],
        }
    }
    paths: dict[str, Any] = {}
    for module in (control_plane_pb2, reporting_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            if service.full_name not in SERVICE_NAMES:
                continue
            for method in service.methods:
                _add_message(method.input_type, schemas)
                _add_message(method.output_type, schemas)
                paths[f"/{service.full_name}/{method.name}"] = {
                    "post": _operation(service.name, method)
                }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Weir control plane API",
            "version": "v1",
            "description": (
                "Connect protocol over HTTP: POST the request as protobuf JSON with "
                "Content-Type: application/json. The same services are served over gRPC. "
                "Choose a deployment with the x-weir-deployment header (default prod). "
                "Where the control plane requires auth, send a token as Authorization: "
                "Bearer <token>."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(service_name: str, method: Any) -> dict[str, Any]:
    streaming = method.server_streaming
    media = "application/connect+json" if streaming else "application/json"
    reply = _ref(method.output_type.full_name)
    return {
        "operationId": f"{service_name}_{method.name}",
        "tags": [service_name],
        "summary": method.name + (" (server streaming)" if streaming else ""),
        "parameters": [
            {
                "name": "x-weir-deployment",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "default": "prod"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {media: {"schema": _ref(method.input_type.full_name)}},
        },
        "responses": {
            "200": {
                "description": (
                    "A stream of enveloped replies, ending with an end-of-stream message"
                    if streaming
                    else "The reply"
                ),
                "content": {media: {"schema": reply}},
            },
            "default": {
                "description": "A Connect error",
                "content": {"application/json": {"schema": _ref(ERROR_SCHEMA)}},
            },
        },
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _add_message(descriptor: Descriptor, schemas: dict[str, Any]) -> None:
    name = descriptor.full_name
    if name in schemas or name in _WELL_KNOWN:
        return
    schemas[name] = {}  # claimed before recursing: messages may refer to themselves
    properties = {field.json_name: _field_schema(field, schemas) for field in descriptor.fields}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = REQUIRED_FIELDS.get(name)
    if required:
        schema["required"] = list(required)
    oneofs = [oneof for oneof in descriptor.oneofs if not _is_synthetic(oneof)]
    if oneofs:
        schema["description"] = " ".join(
            f"At most one of {', '.join(f.json_name for f in oneof.fields)} is set."
            for oneof in oneofs
        )
    schemas[name] = schema


def _is_synthetic(oneof: Any) -> bool:
    # proto3 `optional` fields sit in a one-field oneof of their own.
    return len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name


def _message_of(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, f"{field.full_name} is not a message field"
    return field.message_type


def _enum_of(field: FieldDescriptor) -> EnumDescriptor:
    assert field.enum_type is not None, f"{field.full_name} is not an enum field"
    return field.enum_type


def _field_schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if _is_map(field):
        value_field = _message_of(field).fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single_schema(value_field, schemas)}
    single = _single_schema(field, schemas)
    if _is_repeated(field):
        return {"type": "array", "items": single}
    return single


def _single_schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message = _message_of(field)
        if message.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[message.full_name])
        _add_message(message, schemas)
        return _ref(message.full_name)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _enum_schema(_enum_of(field), schemas)
    return dict(_SCALARS[field.type])


def _enum_schema(enum: EnumDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if enum.full_name == "google.protobuf.NullValue":
        return {"type": "null"}
    if enum.full_name not in schemas:
        schemas[enum.full_name] = {"type": "string", "enum": [v.name for v in enum.values]}
    return _ref(enum.full_name)


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and _message_of(field).GetOptions().map_entry
        and _is_repeated(field)
    )


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated
