"""ExecuteInProcessResult: what `materialize` returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from weir._errors import UsageError
from weir._execution.events import AssetCheckEvaluation, EventType, WeirEvent
from weir._key import AssetKey, CoercibleToAssetKey


class ExecuteInProcessResult:
    """Every event of the run, in order, and the values the assets produced."""

    def __init__(
        self,
        run_id: str,
        success: bool,
        events: Sequence[WeirEvent],
        outputs: dict[tuple[str, str], Any],
        node_of_key: dict[AssetKey, tuple[str, str]],
    ):
        self.run_id = run_id
        self.success = success
        self.all_events = list(events)
        self._outputs = outputs
        self._node_of_key = node_of_key

    @property
    def all_node_events(self) -> list[WeirEvent]:
        return [e for e in self.all_events if e.step_key is not None]

    def _of_type(self, event_type: EventType) -> list[WeirEvent]:
        return [e for e in self.all_events if e.event_type is event_type]

    def get_asset_materialization_events(self) -> list[WeirEvent]:
        return self._of_type(EventType.ASSET_MATERIALIZATION)

    def asset_materializations_for_node(self, node_name: str) -> list[Any]:
        return [
            e.materialization
            for e in self.get_asset_materialization_events()
            if e.step_key == node_name
        ]

    def get_asset_check_evaluations(self) -> list[AssetCheckEvaluation]:
        return [
            e.asset_check_evaluation
            for e in self._of_type(EventType.ASSET_CHECK_EVALUATION)
            if e.asset_check_evaluation is not None
        ]

    def get_step_failure_events(self) -> list[WeirEvent]:
        return self._of_type(EventType.STEP_FAILURE)

    def get_step_success_events(self) -> list[WeirEvent]:
        return self._of_type(EventType.STEP_SUCCESS)

    def get_run_success_event(self) -> WeirEvent:
        return self._run_event(EventType.RUN_SUCCESS)

    def get_run_failure_event(self) -> WeirEvent:
        return self._run_event(EventType.RUN_FAILURE)

    def _run_event(self, event_type: EventType) -> WeirEvent:
        found = self._of_type(event_type)
        if not found:
            raise UsageError(f"This run has no {event_type.value} event (success={self.success})")
        return found[0]

    def events_for_node(self, node_name: str) -> list[WeirEvent]:
        return [e for e in self.all_events if e.step_key == node_name]

    def is_node_success(self, node_name: str) -> bool:
        return any(e.is_step_success for e in self.events_for_node(node_name))

    def is_node_failed(self, node_name: str) -> bool:
        return any(e.is_step_failure for e in self.events_for_node(node_name))

    def is_node_skipped(self, node_name: str) -> bool:
        return any(e.is_step_skipped for e in self.events_for_node(node_name))

    def get_step_skipped_events(self) -> list[WeirEvent]:
        return self._of_type(EventType.STEP_SKIPPED)

    def get_failed_step_keys(self) -> set[str]:
        return {e.step_key for e in self.get_step_failure_events() if e.step_key}

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        try:
            return self._outputs[(node_name, output_name)]
        except KeyError:
            raise UsageError(
                f"No output {output_name!r} of node '{node_name}' in this run; it produced "
                f"{sorted(f'{n}.{o}' for n, o in self._outputs)}"
            ) from None

    def asset_value(self, asset_key: CoercibleToAssetKey) -> Any:
        key = AssetKey.from_coercible(asset_key)
        if key not in self._node_of_key:
            raise UsageError(f"Asset '{key.to_user_string()}' was not part of this run")
        return self.output_for_node(*self._node_of_key[key])

    def __repr__(self) -> str:
        return f"<ExecuteInProcessResult run_id={self.run_id} success={self.success}>"
