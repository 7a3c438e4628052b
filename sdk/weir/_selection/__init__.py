"""Asset selections: `AssetSelection`, the SDK's face on the `weir_selection` language."""

from weir._selection.selection import AssetSelection, CoercibleToAssetSelection

__all__ = ["AssetSelection", "CoercibleToAssetSelection"]
