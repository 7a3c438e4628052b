"""Reading a dbt manifest.json into asset specs and check specs.

One asset per model, seed and snapshot (key: the node's name, as dagster-dbt's default);
its dependencies from the node's refs and sources (a source is an external asset keyed
`[source_name, table]`); dbt tags become tags (`{"finance": ""}`), `meta` and the node's
dbt facts become metadata, the dbt group becomes the asset group and the group's owner
(or `meta.owner`) an owner. Each dbt test attached to one of those nodes is an asset check.

Anything the manifest lacks or holds in the wrong shape is a `DbtManifestError` naming
the file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir._checks import AssetCheckSpec
from weir._errors import DbtManifestError
from weir._key import AssetKey
from weir._metadata import MetadataValue
from weir._specs import AssetSpec

ASSET_RESOURCE_TYPES = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class DbtNode:
    """One model, seed or snapshot of the manifest, as an asset."""

    unique_id: str
    resource_type: str
    name: str
    fqn: tuple[str, ...]
    tags: tuple[str, ...]
    spec: AssetSpec


@dataclass(frozen=True)
class DbtTest:
    unique_id: str
    name: str
    asset_key: AssetKey
    spec: AssetCheckSpec


@dataclass(frozen=True)
class DbtManifest:
    """A parsed manifest: its asset nodes and tests by unique id.

    >>> manifest = DbtManifest.read("target/manifest.json")  # doctest: +SKIP
    >>> [node.spec.key for node in manifest.nodes.values()]  # doctest: +SKIP
    """

    path: str
    project_name: str
    adapter_type: str
    nodes: Mapping[str, DbtNode]
    tests: Mapping[str, DbtTest]

    @classmethod
    def read(cls, path: str | Path | Mapping[str, Any]) -> DbtManifest:
        """Parse the manifest at `path` (or an already loaded manifest document)."""
        if isinstance(path, Mapping):
            return cls.parse(path, "<manifest>")
        where = str(path)
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise DbtManifestError(
                where, "file", "does not exist: run `dbt parse` (or DbtProject.prepare())"
            ) from None
        except OSError as error:
            raise DbtManifestError(where, "file", f"cannot be read: {error}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise DbtManifestError(
                where, "file", f"is not JSON ({error.msg} at line {error.lineno})"
            ) from None
        return cls.parse(document, where)

    @classmethod
    def parse(cls, document: Any, where: str) -> DbtManifest:
        reader = _Reader(where)
        root = reader.mapping(document, "the document")
        metadata = reader.mapping(root.get("metadata", {}), "metadata")
        project = str(metadata.get("project_name", ""))
        adapter = str(metadata.get("adapter_type", ""))
        raw_nodes = reader.mapping(reader.required(root, "nodes", ""), "nodes")
        sources = reader.mapping(root.get("sources", {}), "sources")
        groups = reader.mapping(root.get("groups", {}), "groups")
        keys: dict[str, AssetKey] = {}
        for unique_id, node in raw_nodes.items():
            node = reader.mapping(node, f"nodes.{unique_id}")
            if node.get("resource_type") in ASSET_RESOURCE_TYPES:
                keys[unique_id] = AssetKey([reader.text(node, "name", f"nodes.{unique_id}")])
        for unique_id, source in sources.items():
            source = reader.mapping(source, f"sources.{unique_id}")
            field = f"sources.{unique_id}"
            keys[unique_id] = AssetKey(
                [reader.text(source, "source_name", field), reader.text(source, "name", field)]
            )
        nodes: dict[str, DbtNode] = {}
        tests: dict[str, DbtTest] = {}
        for unique_id, node in raw_nodes.items():
            field = f"nodes.{unique_id}"
            kind = node.get("resource_type")
            if kind in ASSET_RESOURCE_TYPES:
                nodes[unique_id] = _asset_node(
                    reader, field, unique_id, node, keys, groups, adapter
                )
            elif kind == "test":
                test = _test(reader, field, unique_id, node, keys, raw_nodes)
                if test is not None:
                    tests[unique_id] = test
        return cls(where, project, adapter, nodes, tests)

    def source_keys(self) -> set[AssetKey]:
        """The sources the assets depend on: external assets, not built by dbt."""
        own = {node.spec.key for node in self.nodes.values()}
        return {dep for node in self.nodes.values() for dep in node.spec.dep_keys} - own

    def select(self, select: str, exclude: str = "") -> list[DbtNode]:
        """The nodes a dbt-style selection picks: space-separated terms, each `*` or
        `fqn:*` (everything), `tag:NAME`, `resource_type:TYPE`, `fqn:a.b.c` or a node name."""
        chosen = _matching(self.nodes.values(), select or "*")
        dropped = {node.unique_id for node in _matching(self.nodes.values(), exclude)}
        return [node for node in chosen if node.unique_id not in dropped]


def _matching(nodes: Iterable[DbtNode], terms: str) -> list[DbtNode]:
    matched: list[DbtNode] = []
    for node in nodes:
        for term in terms.split():
            method, _, value = term.rpartition(":")
            if (
                term in ("*", "fqn:*")
                or (method == "tag" and value in node.tags)
                or (method == "resource_type" and value == node.resource_type)
                or (method == "fqn" and value == ".".join(node.fqn))
                or (not method and value == node.name)
            ):
                matched.append(node)
                break
    return matched


def _asset_node(
    reader: _Reader,
    field: str,
    unique_id: str,
    node: Mapping[str, Any],
    keys: Mapping[str, AssetKey],
    groups: Mapping[str, Any],
    adapter: str,
) -> DbtNode:
    name = reader.text(node, "name", field)
    config = reader.mapping(node.get("config", {}), f"{field}.config")
    meta = {**reader.mapping(node.get("meta", {}), f"{field}.meta"), **reader.mapping(
        config.get("meta", {}), f"{field}.config.meta"
    )}  # fmt: skip
    tags = tuple(reader.strings(node.get("tags", []), f"{field}.tags"))
    group = node.get("group") or config.get("group")
    deps = [keys[dep] for dep in _depends_on(reader, node, field) if dep in keys]
    metadata: dict[str, Any] = {
        "dbt/unique_id": MetadataValue.text(unique_id),
        "dbt/resource_type": MetadataValue.text(str(node["resource_type"])),
    }
    if config.get("materialized"):
        metadata["dbt/materialized"] = MetadataValue.text(str(config["materialized"]))
    if node.get("relation_name"):
        metadata["dbt/relation_name"] = MetadataValue.text(str(node["relation_name"]))
    if meta:
        metadata["dbt/meta"] = MetadataValue.json(meta)
    spec = AssetSpec(
        AssetKey([name]),
        deps=deps,
        description=str(node.get("description") or "") or None,
        metadata=metadata,
        # A failed model leaves the others built: not yielding it is not a definition error.
        skippable=True,
        group_name=str(group) if group else None,
        owners=_owners(meta, groups, group),
        tags=dict.fromkeys(tags, ""),
        kinds={"dbt", adapter} if adapter else {"dbt"},
    )
    fqn = tuple(reader.strings(node.get("fqn", [name]), f"{field}.fqn"))
    return DbtNode(unique_id, str(node["resource_type"]), name, fqn, tags, spec)


def _test(
    reader: _Reader,
    field: str,
    unique_id: str,
    node: Mapping[str, Any],
    keys: Mapping[str, AssetKey],
    raw_nodes: Mapping[str, Any],
) -> DbtTest | None:
    """The check a test is, on the asset it is attached to (a singular test on exactly one
    asset counts as attached to it); None for a test on no asset or several."""
    name = reader.text(node, "name", field)
    attached = node.get("attached_node")
    if not attached:
        parents = [
            dep
            for dep in _depends_on(reader, node, field)
            if raw_nodes.get(dep, {}).get("resource_type") in ASSET_RESOURCE_TYPES
        ]
        attached = parents[0] if len(parents) == 1 else None
    if (
        attached is None
        or attached not in keys
        or raw_nodes.get(attached, {}).get("resource_type") not in ASSET_RESOURCE_TYPES
    ):
        return None
    key = keys[attached]
    description = str(node.get("description") or "") or None
    # Not blocking: dbt itself skips what is downstream of a failing error-severity test.
    spec = AssetCheckSpec(name, asset=key, description=description)
    return DbtTest(unique_id, name, key, spec)


def _depends_on(reader: _Reader, node: Mapping[str, Any], field: str) -> list[str]:
    depends = reader.mapping(node.get("depends_on", {}), f"{field}.depends_on")
    return reader.strings(depends.get("nodes", []), f"{field}.depends_on.nodes")


def _owners(meta: Mapping[str, Any], groups: Mapping[str, Any], group: object) -> tuple[str, ...]:
    """Weir owners (an email, or team:NAME) from `meta.owner` and the dbt group's owner."""
    found: list[str] = []
    candidates: list[Any] = [meta.get("owner")]
    for definition in groups.values():
        if isinstance(definition, Mapping) and definition.get("name") == group:
            owner = definition.get("owner") or {}
            if isinstance(owner, Mapping):
                candidates += [owner.get("email"), owner.get("name")]
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate:
            continue
        owner = candidate if "@" in candidate or candidate.startswith("team:") else (
            f"team:{candidate}"
        )  # fmt: skip
        if owner not in found:
            found.append(owner)
    return tuple(found)


class _Reader:
    """Field access that fails with the file and the field's path."""

    def __init__(self, where: str) -> None:
        self.where = where

    def mapping(self, value: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise DbtManifestError(
                self.where, field, f"must be a JSON object, not {type(value).__name__}"
            )
        return value

    def required(self, parent: Mapping[str, Any], name: str, field: str) -> Any:
        if name not in parent:
            path = f"{field}.{name}" if field else name
            raise DbtManifestError(self.where, path, "is missing")
        return parent[name]

    def text(self, parent: Mapping[str, Any], name: str, field: str) -> str:
        value = self.required(parent, name, field)
        if not isinstance(value, str) or not value:
            raise DbtManifestError(self.where, f"{field}.{name}", "must be a non-empty string")
        return value

    def strings(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise DbtManifestError(self.where, field, "must be a list of strings")
        return list(value)
