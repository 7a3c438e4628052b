from weir_protos.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportEventsRequest(_message.Message):
    __slots__ = ("run_id", "events", "worker_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.RunEvent]
    worker_id: str
    def __init__(self, run_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_events_pb2.RunEvent, _Mapping]]] = ..., worker_id: _Optional[str] = ...) -> None: ...

class ReportEventsResponse(_message.Message):
    __slots__ = ("acknowledged_sequence", "cancel_requested")
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    acknowledged_sequence: int
    cancel_requested: bool
    def __init__(self, acknowledged_sequence: _Optional[int] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("run_id", "worker_id", "last_sequence")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    worker_id: str
    last_sequence: int
    def __init__(self, run_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., last_sequence: _Optional[int] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("cancel_requested", "acknowledged_sequence")
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    cancel_requested: bool
    acknowledged_sequence: int
    def __init__(self, cancel_requested: _Optional[bool] = ..., acknowledged_sequence: _Optional[int] = ...) -> None: ...
