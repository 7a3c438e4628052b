"""Leaf selections: everything, keys, and assets matched by an attribute of their spec."""

from __future__ import annotations

import re
from dataclasses import dataclass

from weir._key import AssetKey
from weir._selection import syntax
from weir._selection.resolution import Resolution
from weir._selection.selection import AssetSelection


def _sources_arg(include_sources: bool) -> str:
    return ", include_sources=True" if include_sources else ""


class _SourcesFilter(AssetSelection):
    """A leaf matching spec attributes; externals only with include_sources (no text form)."""

    __slots__ = ()
    include_sources: bool
    _is_term = True
    _is_primary = True

    def _text(self) -> str:
        if self.include_sources:
            return super()._text()  # the syntax cannot say "include external assets"
        return self._attribute_text()

    def _attribute_text(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class AllSelection(_SourcesFilter):
    include_sources: bool = False
    _is_primary = False  # `**a` would not read back

    def _resolve(self, resolution: Resolution) -> set[int]:
        return resolution.sources_filtered(resolution.index.every, self.include_sources)

    def _attribute_text(self) -> str:
        return "*"

    def _python(self) -> str:
        return f"AssetSelection.all({'include_sources=True' if self.include_sources else ''})"


@dataclass(frozen=True, repr=False)
class KeysSelection(AssetSelection):
    selected_keys: tuple[AssetKey, ...]

    def _resolve(self, resolution: Resolution) -> set[int]:
        return resolution.positions_of(self.selected_keys)

    @property
    def _is_term(self) -> bool:  # type: ignore[override]
        return len(self.selected_keys) == 1

    _is_primary = _is_term

    def _text(self) -> str:
        if not self.selected_keys:
            return "not *"  # the empty selection
        return " or ".join(syntax.key_text(k.to_user_string()) for k in self.selected_keys)

    def _python(self) -> str:
        args = ", ".join(repr(k.to_user_string()) for k in self.selected_keys)
        return f"AssetSelection.assets({args})"


@dataclass(frozen=True, repr=False)
class KeyPrefixesSelection(_SourcesFilter):
    selected_prefixes: tuple[tuple[str, ...], ...]
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        by_length: dict[int, set[tuple[str, ...]]] = {}
        for prefix in self.selected_prefixes:
            by_length.setdefault(len(prefix), set()).add(prefix)
        matched = frozenset(
            i
            for i, key in enumerate(resolution.index.keys)
            if any(key.path[:n] in prefixes for n, prefixes in by_length.items())
        )
        return resolution.sources_filtered(matched, self.include_sources)

    def _text(self) -> str:
        return AssetSelection._text(self)  # a prefix is whole path parts; `key:` globs are not

    def _python(self) -> str:
        args = ", ".join(repr("/".join(p)) for p in self.selected_prefixes)
        return f"AssetSelection.key_prefixes({args}{_sources_arg(self.include_sources)})"


@dataclass(frozen=True, repr=False)
class KeyPatternSelection(_SourcesFilter):
    """``key:raw/*``: keys whose ``a/b/c`` form matches a pattern where ``*`` is any text."""

    pattern: str
    include_sources: bool = False
    _is_primary = False  # `key:raw/**` would read as one pattern

    def _resolve(self, resolution: Resolution) -> set[int]:
        names = resolution.index.user_strings
        head, *middle, tail = self.pattern.split("*")
        if not middle:  # the common `prefix*suffix`: plain string tests, no regex
            size = len(head) + len(tail)
            matched = frozenset(
                i
                for i, name in enumerate(names)
                if name.startswith(head) and name.endswith(tail) and len(name) >= size
            )
        else:
            regex = re.compile(".*".join(re.escape(part) for part in self.pattern.split("*")))
            matched = frozenset(i for i, name in enumerate(names) if regex.fullmatch(name))
        return resolution.sources_filtered(matched, self.include_sources)

    def _attribute_text(self) -> str:
        return syntax.key_pattern_text(self.pattern)

    def _python(self) -> str:
        sources = ", include_sources=True" if self.include_sources else ""
        return f"AssetSelection.from_string({self._attribute_text()!r}{sources})"


@dataclass(frozen=True, repr=False)
class KeySubstringSelection(_SourcesFilter):
    substring: str
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        part = self.substring
        names = resolution.index.user_strings
        matched = frozenset(i for i, name in enumerate(names) if part in name)
        return resolution.sources_filtered(matched, self.include_sources)

    def _attribute_text(self) -> str:
        bare = all(c in syntax.KEY_CHARS for c in self.substring)
        return "key_substring:" + (self.substring if bare else syntax.quote(self.substring))

    def _python(self) -> str:
        sources = _sources_arg(self.include_sources)
        return f"AssetSelection.key_substring({self.substring!r}{sources})"


@dataclass(frozen=True, repr=False)
class GroupsSelection(_SourcesFilter):
    selected_groups: tuple[str, ...]
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        index = resolution.index
        matched = frozenset().union(*(index.in_group(g) for g in self.selected_groups))
        return resolution.sources_filtered(matched, self.include_sources)

    @property
    def _is_term(self) -> bool:  # type: ignore[override]
        return len(self.selected_groups) == 1

    _is_primary = _is_term

    def _attribute_text(self) -> str:
        if not self.selected_groups:
            return "not *"
        return " or ".join("group:" + syntax.value_text(g) for g in self.selected_groups)

    def _python(self) -> str:
        args = ", ".join(repr(g) for g in self.selected_groups)
        return f"AssetSelection.groups({args}{_sources_arg(self.include_sources)})"


@dataclass(frozen=True, repr=False)
class TagSelection(_SourcesFilter):
    key: str
    value: str | None = None  # None: the tag is present, whatever its value
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        matched = resolution.index.tagged(self.key, self.value)
        return resolution.sources_filtered(matched, self.include_sources)

    def _attribute_text(self) -> str:
        text = "tag:" + syntax.value_text(self.key)
        return text if self.value is None else f"{text}={syntax.value_text(self.value)}"

    def _python(self) -> str:
        value = "" if self.value is None else f", {self.value!r}"
        return f"AssetSelection.tag({self.key!r}{value}{_sources_arg(self.include_sources)})"


@dataclass(frozen=True, repr=False)
class OwnerSelection(_SourcesFilter):
    selected_owner: str
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        matched = resolution.index.owned_by(self.selected_owner)
        return resolution.sources_filtered(matched, self.include_sources)

    def _attribute_text(self) -> str:
        return "owner:" + syntax.value_text(self.selected_owner)

    def _python(self) -> str:
        sources = _sources_arg(self.include_sources)
        return f"AssetSelection.owner({self.selected_owner!r}{sources})"


@dataclass(frozen=True, repr=False)
class KindSelection(_SourcesFilter):
    kind_name: str
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[int]:
        matched = resolution.index.of_kind(self.kind_name)
        return resolution.sources_filtered(matched, self.include_sources)

    def _attribute_text(self) -> str:
        return "kind:" + syntax.value_text(self.kind_name)

    def _python(self) -> str:
        sources = _sources_arg(self.include_sources)
        return f"AssetSelection.kind({self.kind_name!r}{sources})"
