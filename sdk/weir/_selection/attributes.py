"""Leaf selections: everything, keys, and assets matched by an attribute of their spec."""

from __future__ import annotations

import re
from dataclasses import dataclass

from weir._assets import DEFAULT_GROUP
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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        if self.include_sources:
            return set(resolution.graph.specs)
        return set(resolution.executable)

    def _attribute_text(self) -> str:
        return "*"

    def _python(self) -> str:
        return f"AssetSelection.all({'include_sources=True' if self.include_sources else ''})"


@dataclass(frozen=True, repr=False)
class KeysSelection(AssetSelection):
    selected_keys: tuple[AssetKey, ...]

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        return resolution.known(self.selected_keys)

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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        by_length: dict[int, set[tuple[str, ...]]] = {}
        for prefix in self.selected_prefixes:
            by_length.setdefault(len(prefix), set()).add(prefix)
        return {
            key
            for key, _ in resolution.candidates(self.include_sources)
            if any(key.path[:n] in prefixes for n, prefixes in by_length.items())
        }

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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        regex = re.compile(".*".join(re.escape(part) for part in self.pattern.split("*")))
        names = resolution.user_strings
        return {
            key
            for key, _ in resolution.candidates(self.include_sources)
            if regex.fullmatch(names[key])
        }

    def _attribute_text(self) -> str:
        return syntax.key_pattern_text(self.pattern)

    def _python(self) -> str:
        sources = ", include_sources=True" if self.include_sources else ""
        return f"AssetSelection.from_string({self._attribute_text()!r}{sources})"


@dataclass(frozen=True, repr=False)
class KeySubstringSelection(_SourcesFilter):
    substring: str
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        names = resolution.user_strings
        return {
            key
            for key, _ in resolution.candidates(self.include_sources)
            if self.substring in names[key]
        }

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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        wanted = set(self.selected_groups)
        return {
            key
            for key, spec in resolution.candidates(self.include_sources)
            if (spec.group_name or DEFAULT_GROUP) in wanted
        }

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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        tag, value = self.key, self.value
        if value is None:
            return {k for k, s in resolution.candidates(self.include_sources) if tag in s.tags}
        return {
            k for k, s in resolution.candidates(self.include_sources) if s.tags.get(tag) == value
        }

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

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        owner = self.selected_owner
        return {k for k, s in resolution.candidates(self.include_sources) if owner in s.owners}

    def _attribute_text(self) -> str:
        return "owner:" + syntax.value_text(self.selected_owner)

    def _python(self) -> str:
        sources = _sources_arg(self.include_sources)
        return f"AssetSelection.owner({self.selected_owner!r}{sources})"


@dataclass(frozen=True, repr=False)
class KindSelection(_SourcesFilter):
    kind_name: str
    include_sources: bool = False

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        kind = self.kind_name
        return {k for k, s in resolution.candidates(self.include_sources) if kind in s.kinds}

    def _attribute_text(self) -> str:
        return "kind:" + syntax.value_text(self.kind_name)

    def _python(self) -> str:
        sources = _sources_arg(self.include_sources)
        return f"AssetSelection.kind({self.kind_name!r}{sources})"
