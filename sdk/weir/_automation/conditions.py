"""AutomationCondition: when an asset should be materialized, as a serializable tree.

The control plane evaluates conditions from the definitions snapshot, without user code, so
a condition is data: every node has a `node_type` from a fixed vocabulary, its `children`,
and JSON-friendly `parameters` (cron string, timezone, lookback seconds). `to_dict` /
`from_dict` give the stable structure the code server puts on the wire.

Operands (leaves) say something about one asset partition: ``missing()``,
``in_progress()``, ``newly_updated()``, ``cron_tick_passed(cron, tz)``… Operators combine
them: ``&``, ``|``, ``~``, ``.since(reset)``, ``.newly_true()``, ``any_deps_match(c)``,
``all_deps_match(c)``. The built-ins ``eager()``, ``on_cron()`` and ``on_missing()`` are
compositions of these, labelled so they read well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from weir._automation.cron import validate_cron, validate_timezone
from weir._errors import DefinitionError

# node_type -> (number of children, or None for two or more; parameter names)
NODE_TYPES: dict[str, tuple[int | None, tuple[str, ...]]] = {
    # operators
    "and": (None, ()),
    "or": (None, ()),
    "not": (1, ()),
    "since": (2, ()),  # children: (trigger, reset)
    "newly_true": (1, ()),
    "any_deps_match": (1, ()),
    "all_deps_match": (1, ()),
    # Their operand is evaluated on each of the asset's checks (blocking ones only if asked).
    "any_checks_match": (1, ("blocking_only",)),
    "all_checks_match": (1, ("blocking_only",)),
    # operands
    "missing": (0, ()),
    "in_progress": (0, ()),
    "run_in_progress": (0, ()),
    "backfill_in_progress": (0, ()),
    "check_passed": (0, ()),  # only under any_checks_match / all_checks_match
    "check_failed": (0, ()),
    "execution_failed": (0, ()),
    "newly_updated": (0, ()),
    "newly_requested": (0, ()),
    "initial_evaluation": (0, ()),
    "will_be_requested": (0, ()),
    "executed_with_root_target": (0, ()),
    "code_version_changed": (0, ()),
    "data_version_changed": (0, ()),
    "cron_tick_passed": (0, ("cron_schedule", "cron_timezone")),
    "in_latest_time_window": (0, ("lookback_seconds",)),
    "freshness_passed": (0, ()),
    "freshness_warned": (0, ()),
    "freshness_failed": (0, ()),
}


@dataclass(frozen=True)
class AutomationCondition:
    """A node of a condition tree; build one with the static constructors and operators.

    >>> str(AutomationCondition.missing() & ~AutomationCondition.in_progress())
    'missing() & ~in_progress()'
    >>> eager = AutomationCondition.eager()
    >>> str(eager), eager.children[1].expression
    ('eager', '(newly_missing | any_deps_updated).since_last_handled()')
    """

    node_type: str
    children: tuple[AutomationCondition, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    label: str | None = None

    def __post_init__(self) -> None:
        spec = NODE_TYPES.get(self.node_type)
        if spec is None:
            known = ", ".join(sorted(NODE_TYPES))
            raise DefinitionError(
                f"Unknown automation condition node {self.node_type!r}; known nodes: {known}"
            )
        arity, param_names = spec
        count = len(self.children)
        if (arity is None and count < 2) or (arity is not None and count != arity):
            wanted = "two or more" if arity is None else str(arity)
            raise DefinitionError(
                f"Automation condition {self.node_type!r} takes {wanted} operands, got {count}"
            )
        for child in self.children:
            if not isinstance(child, AutomationCondition):
                raise DefinitionError(
                    f"Operands of {self.node_type!r} must be AutomationConditions, got "
                    f"{type(child).__name__} {child!r}"
                )
        given = tuple(name for name, _ in self.params)
        if given != param_names:
            raise DefinitionError(
                f"Automation condition {self.node_type!r} takes parameters {list(param_names)}, "
                f"got {list(given)}"
            )

    # ---- structure -------------------------------------------------------------------

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.params)

    def get_label(self) -> str | None:
        return self.label

    def with_label(self, label: str | None) -> AutomationCondition:
        """The same condition, shown as `label` (in the UI and in ``str()``)."""
        return AutomationCondition(self.node_type, self.children, self.params, label)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible tree: ``{"type", "label", "params", "children"}`` per node."""
        return {
            "type": self.node_type,
            "label": self.label,
            "params": dict(self.params),
            "children": [c.to_dict() for c in self.children],
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> AutomationCondition:
        """Rebuild a condition from `to_dict` output, validating every node."""
        node_type = data.get("type")
        if not isinstance(node_type, str):
            raise DefinitionError(f"Automation condition node without a 'type': {data!r}")
        params = data.get("params") or {}
        order = NODE_TYPES.get(node_type, (0, tuple(params)))[1]
        return AutomationCondition(
            node_type,
            tuple(AutomationCondition.from_dict(c) for c in data.get("children") or ()),
            tuple((name, params[name]) for name in order if name in params),
            data.get("label"),
        )

    def walk(self) -> Iterable[AutomationCondition]:
        """This node and every node below it, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def replace(
        self, old: AutomationCondition | str, new: AutomationCondition
    ) -> AutomationCondition:
        """A copy with every node equal to `old` (or labelled `old`) replaced by `new`.

        >>> cond = AutomationCondition.eager().replace(
        ...     "any_deps_updated", AutomationCondition.any_deps_match(
        ...         AutomationCondition.newly_updated()))
        >>> "any_deps_match(newly_updated())" in cond.expression
        True
        """
        if self == old or (isinstance(old, str) and self.label == old):
            return new
        children = tuple(c.replace(old, new) for c in self.children)
        if children == self.children:
            return self
        return AutomationCondition(self.node_type, children, self.params, self.label)

    def without(self, operand: AutomationCondition | str) -> AutomationCondition:
        """This ``&`` condition without one of its operands (given as a condition or label).

        >>> str(AutomationCondition.on_missing().without(~AutomationCondition.any_deps_missing()))
        'in_latest_time_window() & missing().newly_true().since_last_handled()'
        """
        if self.node_type != "and":
            raise DefinitionError(f"without() applies to an '&' condition, not to {self}")
        kept = tuple(
            c
            for c in self.children
            if not (c == operand or (isinstance(operand, str) and c.label == operand))
        )
        if len(kept) == len(self.children):
            raise DefinitionError(f"{operand} is not an operand of {self.expression}")
        # The result is no longer what the label named, so it is not carried over.
        return kept[0] if len(kept) == 1 else AutomationCondition("and", kept)

    # ---- operators -------------------------------------------------------------------

    def __and__(self, other: AutomationCondition) -> AutomationCondition:
        if not isinstance(other, AutomationCondition):
            return NotImplemented
        return AutomationCondition("and", (*_operands(self, "and"), *_operands(other, "and")))

    def __or__(self, other: AutomationCondition) -> AutomationCondition:
        if not isinstance(other, AutomationCondition):
            return NotImplemented
        return AutomationCondition("or", (*_operands(self, "or"), *_operands(other, "or")))

    def __invert__(self) -> AutomationCondition:
        return AutomationCondition("not", (self,))

    def since(self, reset: AutomationCondition) -> AutomationCondition:
        """True from when this condition was true until `reset` becomes true."""
        return AutomationCondition("since", (self, reset))

    def newly_true(self) -> AutomationCondition:
        """True on the evaluation where this condition turns from false to true."""
        return AutomationCondition("newly_true", (self,))

    def since_last_handled(self) -> AutomationCondition:
        """True since this condition was, unless the asset was requested or updated since."""
        return self.since(_HANDLED)

    # ---- operands --------------------------------------------------------------------

    @staticmethod
    def missing() -> AutomationCondition:
        """The partition has never been materialized."""
        return AutomationCondition("missing")

    @staticmethod
    def in_progress() -> AutomationCondition:
        """A run targeting the partition is in progress."""
        return AutomationCondition("in_progress")

    @staticmethod
    def run_in_progress() -> AutomationCondition:
        """A run targeting the partition is queued or running (``in_progress()`` is the
        same: this control plane runs a backfill's partitions as runs too)."""
        return AutomationCondition("run_in_progress")

    @staticmethod
    def backfill_in_progress() -> AutomationCondition:
        """A run of a backfill targeting the partition is queued or running."""
        return AutomationCondition("backfill_in_progress")

    @staticmethod
    def check_passed() -> AutomationCondition:
        """The check's latest evaluation passed; an operand of ``any_checks_match`` or
        ``all_checks_match``, evaluated on each check of the asset."""
        return AutomationCondition("check_passed")

    @staticmethod
    def check_failed() -> AutomationCondition:
        """The check's latest evaluation failed; an operand of ``any_checks_match`` or
        ``all_checks_match``."""
        return AutomationCondition("check_failed")

    @staticmethod
    def execution_failed() -> AutomationCondition:
        """The latest run targeting the partition failed."""
        return AutomationCondition("execution_failed")

    @staticmethod
    def newly_updated() -> AutomationCondition:
        """The partition was materialized since the previous evaluation."""
        return AutomationCondition("newly_updated")

    @staticmethod
    def newly_requested() -> AutomationCondition:
        """The partition was requested on the previous evaluation."""
        return AutomationCondition("newly_requested")

    @staticmethod
    def initial_evaluation() -> AutomationCondition:
        """This is the first evaluation of the condition (or it changed since the last)."""
        return AutomationCondition("initial_evaluation")

    @staticmethod
    def will_be_requested() -> AutomationCondition:
        """The partition will be requested on this evaluation."""
        return AutomationCondition("will_be_requested")

    @staticmethod
    def executed_with_root_target() -> AutomationCondition:
        """The latest run that updated the partition also targeted the asset being evaluated."""
        return AutomationCondition("executed_with_root_target")

    @staticmethod
    def code_version_changed() -> AutomationCondition:
        """The asset's code version changed since the previous evaluation."""
        return AutomationCondition("code_version_changed")

    @staticmethod
    def data_version_changed() -> AutomationCondition:
        """The partition's data version changed since the previous evaluation."""
        return AutomationCondition("data_version_changed")

    @staticmethod
    def freshness_passed() -> AutomationCondition:
        """The asset's freshness policy is met (state PASS), as the control plane's
        freshness daemon last evaluated it."""
        return AutomationCondition("freshness_passed")

    @staticmethod
    def freshness_warned() -> AutomationCondition:
        """The asset's freshness state is WARN: past its policy's warn window."""
        return AutomationCondition("freshness_warned")

    @staticmethod
    def freshness_failed() -> AutomationCondition:
        """The asset's freshness state is FAIL: it went stale under its policy.

        >>> stale = AutomationCondition.freshness_failed() & ~AutomationCondition.in_progress()
        >>> str(stale)
        'freshness_failed() & ~in_progress()'
        """
        return AutomationCondition("freshness_failed")

    @staticmethod
    def cron_tick_passed(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """A tick of the cron schedule passed since the previous evaluation."""
        where = "AutomationCondition.cron_tick_passed"
        validate_cron(cron_schedule, where)
        validate_timezone(cron_timezone, where)
        return AutomationCondition(
            "cron_tick_passed",
            params=(("cron_schedule", cron_schedule), ("cron_timezone", cron_timezone)),
        )

    @staticmethod
    def in_latest_time_window(lookback_delta: timedelta | None = None) -> AutomationCondition:
        """The partition is in the latest time window (or within `lookback_delta` of it);
        always true for assets without time partitions."""
        if lookback_delta is not None and (
            not isinstance(lookback_delta, timedelta) or lookback_delta < timedelta(0)
        ):
            raise DefinitionError(
                f"in_latest_time_window lookback_delta must be a non-negative timedelta, "
                f"got {lookback_delta!r}"
            )
        seconds = None if lookback_delta is None else lookback_delta.total_seconds()
        return AutomationCondition("in_latest_time_window", params=(("lookback_seconds", seconds),))

    @staticmethod
    def any_deps_match(condition: AutomationCondition) -> AutomationCondition:
        """Any upstream asset (its partitions mapped to this one) matches `condition`."""
        return AutomationCondition("any_deps_match", (condition,))

    @staticmethod
    def all_deps_match(condition: AutomationCondition) -> AutomationCondition:
        """Every upstream asset matches `condition`."""
        return AutomationCondition("all_deps_match", (condition,))

    @staticmethod
    def any_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        """Any of the asset's checks (only blocking ones with `blocking_only`) matches
        `condition`; false for an asset without checks.

        >>> str(AutomationCondition.any_checks_match(AutomationCondition.check_failed()))
        'any_checks_match(check_failed())'
        """
        return AutomationCondition(
            "any_checks_match", (condition,), (("blocking_only", _flag(blocking_only)),)
        )

    @staticmethod
    def all_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        """Every check of the asset (every blocking one with `blocking_only`) matches
        `condition`; true for an asset without checks."""
        return AutomationCondition(
            "all_checks_match", (condition,), (("blocking_only", _flag(blocking_only)),)
        )

    # ---- compositions ----------------------------------------------------------------

    @staticmethod
    def all_deps_blocking_checks_passed() -> AutomationCondition:
        """Every upstream asset's blocking checks passed, or the upstream is requested on
        this evaluation (a run that fails a blocking check stops before the downstream)."""
        A = AutomationCondition
        passed = A.all_checks_match(A.check_passed(), blocking_only=True).with_label(
            "all_blocking_checks_passed"
        )
        return A.all_deps_match(passed | A.will_be_requested()).with_label(
            "all_deps_blocking_checks_passed"
        )

    @staticmethod
    def newly_missing() -> AutomationCondition:
        return AutomationCondition.missing().newly_true().with_label("newly_missing")

    @staticmethod
    def any_deps_updated() -> AutomationCondition:
        """An upstream asset was updated, by a run that did not also target this asset, or
        is requested on this evaluation (the daemon runs both in one run, upstream first)."""
        A = AutomationCondition
        updated = (A.newly_updated() & ~A.executed_with_root_target()).with_label(
            "newly_updated_without_root"
        )
        return A.any_deps_match(updated | A.will_be_requested()).with_label("any_deps_updated")

    @staticmethod
    def any_deps_missing() -> AutomationCondition:
        """An upstream asset is missing and will not be requested on this evaluation."""
        A = AutomationCondition
        return A.any_deps_match(A.missing() & ~A.will_be_requested()).with_label("any_deps_missing")

    @staticmethod
    def any_deps_in_progress() -> AutomationCondition:
        A = AutomationCondition
        return A.any_deps_match(A.in_progress()).with_label("any_deps_in_progress")

    @staticmethod
    def all_deps_updated_since_cron(
        cron_schedule: str, cron_timezone: str = "UTC"
    ) -> AutomationCondition:
        """Every upstream asset was updated (or is being requested) since the latest cron tick."""
        A = AutomationCondition
        updated = A.newly_updated().since(A.cron_tick_passed(cron_schedule, cron_timezone))
        return A.all_deps_match(updated | A.will_be_requested()).with_label(
            "all_deps_updated_since_cron"
        )

    @staticmethod
    def eager() -> AutomationCondition:
        """Materialize when the asset goes missing or an upstream updates, once upstreams are
        present and nothing is in progress."""
        A = AutomationCondition
        return (
            A.in_latest_time_window()
            & (A.newly_missing() | A.any_deps_updated()).since_last_handled()
            & ~A.any_deps_missing()
            & ~A.any_deps_in_progress()
            & ~A.in_progress()
        ).with_label("eager")

    @staticmethod
    def on_cron(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """Materialize once per cron tick, after every upstream has updated since that tick.

        >>> str(AutomationCondition.on_cron("0 * * * *"))
        'on_cron(0 * * * *, UTC)'
        """
        A = AutomationCondition
        return (
            A.in_latest_time_window()
            & A.cron_tick_passed(cron_schedule, cron_timezone).since_last_handled()
            & A.all_deps_updated_since_cron(cron_schedule, cron_timezone)
        ).with_label(f"on_cron({cron_schedule}, {cron_timezone})")

    @staticmethod
    def on_missing() -> AutomationCondition:
        """Materialize a partition once when it goes missing, once its upstreams exist."""
        A = AutomationCondition
        return (
            A.in_latest_time_window()
            & A.missing().newly_true().since_last_handled()
            & ~A.any_deps_missing()
        ).with_label("on_missing")

    # ---- display ---------------------------------------------------------------------

    @property
    def expression(self) -> str:
        """The condition spelled out one level down, ignoring this node's own label."""
        return _render(self)

    def __str__(self) -> str:
        return self.label if self.label is not None else _render(self)

    def __repr__(self) -> str:
        return f"AutomationCondition<{self}>"


def _operands(condition: AutomationCondition, node_type: str) -> tuple[AutomationCondition, ...]:
    """Flatten ``a & b & c`` into one node, keeping labelled sub-conditions whole."""
    if condition.node_type == node_type and condition.label is None:
        return condition.children
    return (condition,)


_HANDLED = (
    AutomationCondition.newly_requested()
    | AutomationCondition.newly_updated()
    | AutomationCondition.initial_evaluation()
).with_label("handled")


def _render(node: AutomationCondition) -> str:
    renderer = _RENDERERS.get(node.node_type, _render_operand)
    return renderer(node)


def _tight(node: AutomationCondition) -> str:
    """A child rendered so it binds tighter than any operator around it."""
    text = str(node)
    if node.label is None and node.node_type in ("and", "or"):
        return f"({text})"
    return text


def _render_operand(node: AutomationCondition) -> str:
    args = ", ".join(repr(v) for _, v in node.params if v is not None)
    return f"{node.node_type}({args})"


def _render_or(node: AutomationCondition) -> str:
    return " | ".join(str(c) for c in node.children)


def _render_since(node: AutomationCondition) -> str:
    trigger, reset = node.children
    if reset == _HANDLED:
        return f"{_tight(trigger)}.since_last_handled()"
    return f"{_tight(trigger)}.since({reset})"


_RENDERERS: dict[str, Callable[[AutomationCondition], str]] = {
    "and": lambda n: " & ".join(_tight(c) for c in n.children),
    "or": _render_or,
    "not": lambda n: f"~{_tight(n.children[0])}",
    "since": _render_since,
    "newly_true": lambda n: f"{_tight(n.children[0])}.newly_true()",
    "any_deps_match": lambda n: f"any_deps_match({n.children[0]})",
    "all_deps_match": lambda n: f"all_deps_match({n.children[0]})",
    "any_checks_match": lambda n: _render_checks(n),
    "all_checks_match": lambda n: _render_checks(n),
}


def _render_checks(node: AutomationCondition) -> str:
    blocking = ", blocking_only=True" if node.parameters.get("blocking_only") else ""
    return f"{node.node_type}({node.children[0]}{blocking})"


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise DefinitionError(f"blocking_only must be True or False, got {value!r}")
    return value
