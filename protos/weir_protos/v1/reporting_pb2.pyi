from weir_protos.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StepAttemptStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_ATTEMPT_STATUS_UNSPECIFIED: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_QUEUED: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_RUNNING: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_SUCCESS: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_FAILURE: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_LOST: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_SUPERSEDED: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_CANCELED: _ClassVar[StepAttemptStatus]

class ClaimRefusal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_REFUSAL_UNSPECIFIED: _ClassVar[ClaimRefusal]
    CLAIM_REFUSAL_ALREADY_CLAIMED: _ClassVar[ClaimRefusal]
    CLAIM_REFUSAL_SUPERSEDED: _ClassVar[ClaimRefusal]
    CLAIM_REFUSAL_RUN_ENDED: _ClassVar[ClaimRefusal]
    CLAIM_REFUSAL_ATTEMPT_ENDED: _ClassVar[ClaimRefusal]
STEP_ATTEMPT_STATUS_UNSPECIFIED: StepAttemptStatus
STEP_ATTEMPT_STATUS_QUEUED: StepAttemptStatus
STEP_ATTEMPT_STATUS_RUNNING: StepAttemptStatus
STEP_ATTEMPT_STATUS_SUCCESS: StepAttemptStatus
STEP_ATTEMPT_STATUS_FAILURE: StepAttemptStatus
STEP_ATTEMPT_STATUS_LOST: StepAttemptStatus
STEP_ATTEMPT_STATUS_SUPERSEDED: StepAttemptStatus
STEP_ATTEMPT_STATUS_CANCELED: StepAttemptStatus
CLAIM_REFUSAL_UNSPECIFIED: ClaimRefusal
CLAIM_REFUSAL_ALREADY_CLAIMED: ClaimRefusal
CLAIM_REFUSAL_SUPERSEDED: ClaimRefusal
CLAIM_REFUSAL_RUN_ENDED: ClaimRefusal
CLAIM_REFUSAL_ATTEMPT_ENDED: ClaimRefusal

class StepAttemptSpec(_message.Message):
    __slots__ = ("step_key", "attempt", "launch_key", "queue", "lease_seconds", "queued_timeout_seconds")
    STEP_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    step_key: str
    attempt: int
    launch_key: str
    queue: str
    lease_seconds: float
    queued_timeout_seconds: float
    def __init__(self, step_key: _Optional[str] = ..., attempt: _Optional[int] = ..., launch_key: _Optional[str] = ..., queue: _Optional[str] = ..., lease_seconds: _Optional[float] = ..., queued_timeout_seconds: _Optional[float] = ...) -> None: ...

class RegisterStepAttemptsRequest(_message.Message):
    __slots__ = ("run_id", "attempts")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    attempts: _containers.RepeatedCompositeFieldContainer[StepAttemptSpec]
    def __init__(self, run_id: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[StepAttemptSpec, _Mapping]]] = ...) -> None: ...

class RegisteredStepAttempt(_message.Message):
    __slots__ = ("launch_key", "token")
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    launch_key: str
    token: str
    def __init__(self, launch_key: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class RegisterStepAttemptsResponse(_message.Message):
    __slots__ = ("attempts",)
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[RegisteredStepAttempt]
    def __init__(self, attempts: _Optional[_Iterable[_Union[RegisteredStepAttempt, _Mapping]]] = ...) -> None: ...

class GetStepAttemptsRequest(_message.Message):
    __slots__ = ("run_id", "launch_keys")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_KEYS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    launch_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_id: _Optional[str] = ..., launch_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class StepAttemptState(_message.Message):
    __slots__ = ("launch_key", "status", "worker_id", "produced", "reason")
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    launch_key: str
    status: StepAttemptStatus
    worker_id: str
    produced: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, launch_key: _Optional[str] = ..., status: _Optional[_Union[StepAttemptStatus, str]] = ..., worker_id: _Optional[str] = ..., produced: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class GetStepAttemptsResponse(_message.Message):
    __slots__ = ("attempts", "cancel_requested")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[StepAttemptState]
    cancel_requested: bool
    def __init__(self, attempts: _Optional[_Iterable[_Union[StepAttemptState, _Mapping]]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class ClaimStepAttemptRequest(_message.Message):
    __slots__ = ("run_id", "launch_key", "worker_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    launch_key: str
    worker_id: str
    def __init__(self, run_id: _Optional[str] = ..., launch_key: _Optional[str] = ..., worker_id: _Optional[str] = ...) -> None: ...

class ClaimStepAttemptResponse(_message.Message):
    __slots__ = ("claimed", "refusal", "message")
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    claimed: bool
    refusal: ClaimRefusal
    message: str
    def __init__(self, claimed: _Optional[bool] = ..., refusal: _Optional[_Union[ClaimRefusal, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ReportStepEventsRequest(_message.Message):
    __slots__ = ("run_id", "launch_key", "events")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    launch_key: str
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.RunEvent]
    def __init__(self, run_id: _Optional[str] = ..., launch_key: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_events_pb2.RunEvent, _Mapping]]] = ...) -> None: ...

class ReportStepEventsResponse(_message.Message):
    __slots__ = ("acknowledged_sequence", "stop_requested")
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STOP_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    acknowledged_sequence: int
    stop_requested: bool
    def __init__(self, acknowledged_sequence: _Optional[int] = ..., stop_requested: _Optional[bool] = ...) -> None: ...

class StepHeartbeatRequest(_message.Message):
    __slots__ = ("run_id", "launch_key")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_KEY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    launch_key: str
    def __init__(self, run_id: _Optional[str] = ..., launch_key: _Optional[str] = ...) -> None: ...

class StepHeartbeatResponse(_message.Message):
    __slots__ = ("stop_requested",)
    STOP_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    stop_requested: bool
    def __init__(self, stop_requested: _Optional[bool] = ...) -> None: ...

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
