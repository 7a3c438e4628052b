"""Weir's asset-selection language, in one place for both sides of the system.

Selection strings (``"*revenue"``, ``"group:raw+"``, ``"tag:tier=gold and not kind:dbt"``)
are written against the SDK (``weir.AssetSelection.from_string``, jobs, sensors) and sent
to the control plane (its API resolves them against a code location's snapshot). The two
must read every string the same way, yet the SDK never imports the control plane and the
control plane never imports the SDK. So the grammar and its evaluation live here, in a
package with no dependencies that both import:

- `parse` turns a string into an immutable AST (`nodes`), or raises `SelectionSyntaxError`
  with the column, a caret and what was expected (the grammar is in `parser`'s docstring);
- `evaluate` resolves an AST over a `SelectionGraph` (assets by integer position, with
  their edges and attributes), or raises `UnknownAssetsError` naming unknown keys with
  suggestions;
- `to_text` prints an AST back as a string that parses to the same selection.

>>> graph = SelectionGraph(["raw/orders", "revenue", "report"], parents=[[], [0], [1]])
>>> sorted(resolve("raw/orders+", graph))
['raw/orders', 'revenue']
>>> to_text(parse("*report and not key:raw/*"))
'*report and not key:raw/*'
"""

from weir_selection.errors import (
    NoTextFormError,
    SelectionError,
    SelectionSyntaxError,
    UnknownAssetsError,
)
from weir_selection.evaluator import evaluate, resolve, suggestions
from weir_selection.graph import DEFAULT_GROUP, AssetAttributes, SelectionGraph
from weir_selection.nodes import (
    AllAssets,
    Difference,
    Downstream,
    ExternalParents,
    Groups,
    Intersection,
    KeyPattern,
    KeyPrefixes,
    Keys,
    KeySubstring,
    Kind,
    Materializable,
    Node,
    Owner,
    Roots,
    RunTogether,
    Sinks,
    Tag,
    Union,
    Upstream,
    intersection,
    union,
)
from weir_selection.parser import parse
from weir_selection.printer import to_text

__all__ = [
    "DEFAULT_GROUP",
    "AllAssets",
    "AssetAttributes",
    "Difference",
    "Downstream",
    "ExternalParents",
    "Groups",
    "Intersection",
    "KeyPattern",
    "KeyPrefixes",
    "KeySubstring",
    "Keys",
    "Kind",
    "Materializable",
    "NoTextFormError",
    "Node",
    "Owner",
    "Roots",
    "RunTogether",
    "SelectionError",
    "SelectionGraph",
    "SelectionSyntaxError",
    "Sinks",
    "Tag",
    "Union",
    "UnknownAssetsError",
    "Upstream",
    "evaluate",
    "intersection",
    "parse",
    "resolve",
    "suggestions",
    "to_text",
    "union",
]
