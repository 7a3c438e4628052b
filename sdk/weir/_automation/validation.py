"""Checks on the automation arguments of `@asset`, `@multi_asset` and `AssetSpec`.

These objects go to the control plane as data, so anything else (a cron string where a
condition belongs, a legacy policy object) is rejected where the asset is declared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weir._errors import DefinitionError

if TYPE_CHECKING:
    from weir._automation.conditions import AutomationCondition
    from weir._automation.freshness import FreshnessPolicy
    from weir._automation.policies import BackfillPolicy

# Each check imports its class only when a value is given: a value of the right kind was
# built from that class, so its module is loaded already, and `import weir` stays light.


def check_automation_condition(value: Any, where: str) -> AutomationCondition | None:
    if value is None:
        return None
    from weir._automation.conditions import AutomationCondition

    if isinstance(value, AutomationCondition):
        return value
    raise DefinitionError(
        f"automation_condition of {where} must be an AutomationCondition, such as "
        f"AutomationCondition.eager() or AutomationCondition.on_cron('0 6 * * *'); got "
        f"{type(value).__name__} {value!r}"
    )


def check_freshness_policy(value: Any, where: str) -> FreshnessPolicy | None:
    if value is None:
        return None
    from weir._automation.freshness import FreshnessPolicy

    if isinstance(value, FreshnessPolicy):
        return value
    raise DefinitionError(
        f"freshness_policy of {where} must be a FreshnessPolicy, such as "
        f"FreshnessPolicy.time_window(fail_window=timedelta(hours=24)); got "
        f"{type(value).__name__} {value!r}"
    )


def check_backfill_policy(value: Any, where: str) -> BackfillPolicy | None:
    if value is None:
        return None
    from weir._automation.policies import BackfillPolicy

    if isinstance(value, BackfillPolicy):
        return value
    raise DefinitionError(
        f"backfill_policy of {where} must be BackfillPolicy.single_run() or "
        f"BackfillPolicy.multi_run(n); got {type(value).__name__} {value!r}"
    )
