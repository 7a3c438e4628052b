"""A code location for the automation e2e tests: `down` is materialized by the control
plane's automation evaluator whenever `up` is, and never otherwise."""

import weir as dg


@dg.asset(group_name="automation")
def up() -> int:
    return 1


@dg.asset(group_name="automation", automation_condition=dg.AutomationCondition.eager())
def down(up: int) -> int:
    return up + 1


defs = dg.Definitions(assets=[up, down])
