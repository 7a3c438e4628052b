"""Declarative automation: the evaluator of the assets' automation conditions.

`conditions` evaluates one asset's condition tree from facts; `facts` reads those facts
from storage for a tick; `daemon` runs the ticks and requests the runs; `history` turns
an evaluation into the message stored and served by GetAutomationEvaluations.
"""

from weir_controlplane.automation.daemon import AutomationDaemon, AutomationSettings, TickReport

__all__ = ["AutomationDaemon", "AutomationSettings", "TickReport"]
