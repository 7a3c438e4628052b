"""Asset selections: `AssetSelection` and the selection-string syntax it parses."""

from weir._selection.selection import AssetSelection, CoercibleToAssetSelection

__all__ = ["AssetSelection", "CoercibleToAssetSelection"]
