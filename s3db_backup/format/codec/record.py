"""The codec's public face: decode a stored s3db.js record object to what s3db.js get() returns, encode a
record to the object s3db.js writes on insert, and name its partition references.

    codec = ResourceCodec.from_schema(schema, "users")
    decoded = codec.decode(stored_object)            # DecodedRecord(id, version, data)
    stored = codec.encode(decoded.data, decoded.version)
    codec.partition_keys(decoded.data, decoded.version)

Pure functions of s3db.json and the object: no I/O. Secrets are neither decrypted nor encrypted: the
ciphertext s3db.js stored is what decode returns and what encode writes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from s3db_backup.archive.lines import StoredObject
from s3db_backup.format.codec.behaviors import BEHAVIORS, MetadataLimitExceeded, compose, handle_get, split_insert
from s3db_backup.format.codec.js import UNDEFINED, JSError, js_items, json_stringify, strip_undefined
from s3db_backup.format.codec.mapping import MappingError, version_map
from s3db_backup.format.codec.metadata import (
    UnsupportedEncoding,
    effective_limit,
    header_key,
    metadata_decode,
    metadata_encode,
)
from s3db_backup.format.codec.partitions import partition_keys
from s3db_backup.format.codec.plugins import PluginMapError, plugin_map, spread_prefixes
from s3db_backup.format.codec.schema import VersionSchema
from s3db_backup.format.codec.types import UnsupportedType
from s3db_backup.format.layout import classify, record_key
from s3db_backup.format.schema import DatabaseSchema

__all__ = ["DecodedRecord", "MetadataLimitExceeded", "ResourceCodec", "UnrecognizedObject", "UnsupportedType"]

#: Metadata keys s3db.js writes besides attribute keys (as stored: lower-cased, `$` -> `_`).
INTERNAL_KEYS = {"_v", "_map", "_overflow", "_truncated", "_pluginmap"}
#: What get() sets on every record after composing it (hydrateObject, applyVersionMapping): not record data.
#: update() writes them into the object too, and body-only's get() returns a body's `_` keys unfiltered; the
#: values get() shows are its own, so they are dropped from `data` whatever the object holds.
GET_INTERNALS = frozenset({
    "_contentLength", "_lastModified", "_hasContent", "_mimeType", "_etag", "_v", "_versionId", "_expiresAt",
    "_definitionHash", "_originalVersion", "_versionMapped",
})
OCTET_STREAM = "application/octet-stream"
JSON_TYPE = "application/json"


class UnrecognizedObject(ValueError):
    """A stored object that is not s3db.js 21.6.2 encoding of a record of this resource; `reason` says why."""

    def __init__(self, reason: str, key: str = "") -> None:
        super().__init__(f"{key}: {reason}" if key else reason)
        self.reason = reason
        self.key = key


@dataclass(frozen=True)
class DecodedRecord:
    """A record as s3db.js get() returns it (`data`, with `id`, without get()'s `_` internals, GET_INTERNALS) and
    its schema version. Buffer and bits attributes are `bytes` (get() returns Node Buffers)."""

    id: str
    version: str
    data: dict[str, Any]


@dataclass(frozen=True)
class VersionSpec:
    name: str
    schema: VersionSchema
    behavior: str
    timestamps: bool

    @cached_property
    def metadata_limit(self) -> int:
        """The metadata budget of an insert under this version (`effective_limit`, a function of the version)."""
        return effective_limit(self.name, self.timestamps, None)

    @cached_property
    def validator_undefined(self) -> tuple[str, ...]:
        """Attributes an insert stores as "undefined" when absent (see _validator_undefined)."""
        return _validator_undefined(self.schema.attributes)

    @cached_property
    def plugin_map_json(self) -> str:
        """`JSON.stringify(schema.pluginMap)`, stored as `_pluginMap` by some behaviors; "" without plugin keys."""
        return json_stringify(self.schema.plugin_map) if self.schema.plugin_map else ""

    @cached_property
    def plugin_prefixes(self) -> tuple[str, ...]:
        return spread_prefixes(self.schema.plugin_map)

    def in_plugin_layout(self, key: str) -> bool:
        """Whether a stored metadata key is one this version gives a plugin attribute: its plugin key, or a key
        flatten() spreads its object value into (plugins.py)."""
        return key in self.schema.reversed_plugin_map or key.startswith(self.plugin_prefixes)


class ResourceCodec:
    """Decoder/encoder of one resource's record objects, for every version its s3db.json entry holds."""

    def __init__(self, resource: str, current: str, versions: dict[str, VersionSpec],
                 partitions: dict[str, Any], broken: dict[str, str]) -> None:
        self.resource = resource
        self.current = current
        self.versions = versions
        self.partitions = partitions
        self.broken = broken  # version -> why it cannot be used

    @classmethod
    def from_schema(cls, schema: DatabaseSchema, resource: str) -> ResourceCodec:
        entry = schema.resource(resource)
        current = entry.get("currentVersion") or "v1"
        registry = entry.get("schemaRegistry") if isinstance(entry.get("schemaRegistry"), dict) else None
        versions: dict[str, VersionSpec] = {}
        broken: dict[str, str] = {}
        for name, definition in (entry.get("versions") or {}).items():
            if not isinstance(definition, dict):
                broken[name] = "version definition is not an object"
                continue
            attributes = definition.get("attributes") or {}
            if isinstance(attributes, str):
                attributes = _json_or(attributes, {})
            behavior = definition.get("behavior") or "user-managed"
            if behavior not in BEHAVIORS:
                broken[name] = f"unknown behavior {behavior!r}"
                continue
            timestamps = definition.get("timestamps") is True
            if timestamps:
                attributes = dict(attributes)
                attributes.setdefault("createdAt", "datetime|optional")
                attributes.setdefault("updatedAt", "datetime|optional")
            try:
                mapping = version_map(attributes, registry, definition.get("map"), current=name == current)
            except MappingError as exc:
                broken[name] = str(exc)
                continue
            try:
                plugin_keys = plugin_map(attributes, entry.get("pluginSchemaRegistry"))
            except PluginMapError as exc:
                broken[name] = f"s3db.js cannot connect: {exc}"
                continue
            vs = VersionSchema(attributes=attributes, map=mapping, plugin_map=plugin_keys)
            if vs.unsupported:
                attr, kind = next(iter(vs.unsupported.items()))
                broken[name] = f"attribute {attr!r} has type {kind}, which this codec does not implement"
            versions[name] = VersionSpec(name, vs, behavior, timestamps)
        definition = (entry.get("versions") or {}).get(current) or {}
        partitions = entry.get("partitions") or definition.get("partitions") or {}
        return cls(resource, current, versions, dict(partitions), broken)

    # --- decode --------------------------------------------------------------------------------------

    def _usable(self, version: str, key: str = "") -> VersionSpec:
        if version not in self.versions and version not in self.broken:
            raise UnrecognizedObject(f"schema version {version!r} is not in s3db.json", key)
        if version in self.broken:
            raise UnrecognizedObject(f"schema version {version!r}: {self.broken[version]}", key)
        return self.versions[version]

    def decode(self, obj: StoredObject) -> DecodedRecord:
        """The record as s3db.js get() returns it (secrets as stored). UnrecognizedObject when s3db.js did not
        write this object as a record of this resource's schema (or this codec cannot read it exactly)."""
        info = classify(obj.key)
        if info.kind != "record" or info.resource != self.resource or info.record_id is None:
            raise UnrecognizedObject(f"key is not a record of resource {self.resource!r}", obj.key)
        version = obj.metadata.get("_v")
        if not version:
            raise UnrecognizedObject("no _v metadata", obj.key)
        spec = self._usable(version, obj.key)
        # get() reads every object with the current version's schema, whatever its _v.
        current = self._usable(self.current, obj.key)
        for key in obj.metadata:
            # update() also stores get()'s `_` internals (`_contentlength`, `_etag`, ...): s3db.js's own keys.
            # Plugin keys are judged by the current version: get() unmaps them with its plugin map.
            if (key not in INTERNAL_KEYS and not key.startswith("_") and not spec.schema.in_layout(key)
                    and not current.in_plugin_layout(key)):
                raise UnrecognizedObject(f"metadata key {key!r} is not in version {version}'s layout", obj.key)
        try:
            metadata = {k: metadata_decode(v) for k, v in obj.metadata.items()}
        except UnsupportedEncoding as exc:
            raise UnrecognizedObject(str(exc), obj.key) from exc
        try:
            body = obj.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnrecognizedObject("body is not UTF-8", obj.key) from exc
        try:
            first = current.schema.unmapper(metadata)
            processed = handle_get(current.behavior, first, body)
            data = compose(current.schema, current.behavior, info.record_id, processed, body)
        except JSError as exc:
            raise UnrecognizedObject(f"s3db.js cannot read it: {exc}", obj.key) from exc
        except UnsupportedType as exc:
            raise UnrecognizedObject(str(exc), obj.key) from exc
        data = {k: v for k, v in js_items(data) if k not in GET_INTERNALS}
        return DecodedRecord(info.record_id, version, strip_undefined(data))

    # --- encode --------------------------------------------------------------------------------------

    def encode(self, record: dict[str, Any], version: str) -> StoredObject:
        """The object s3db.js writes when `record` (with `id`, as get() returns it) is inserted under `version`.

        Raises UnrecognizedObject for an unusable version, UnsupportedType for values this codec cannot encode
        exactly, MetadataLimitExceeded where s3db.js (enforce-limits) refuses the insert."""
        spec = self._usable(version)
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id:
            raise ValueError("record has no string id")
        # A shallow copy is enough: the mapper deep-copies before its hooks change anything.
        attributes = {k: v for k, v in record.items() if k != "id"}
        for name in spec.validator_undefined:
            if name not in attributes:
                attributes[name] = UNDEFINED
        try:
            mapped = spec.schema.mapper(attributes, version)
        except JSError as exc:
            raise UnsupportedType(f"s3db.js would fail to map it: {exc}") from exc
        limit = spec.metadata_limit
        fields, body = split_insert(spec.behavior, mapped, limit, spec.plugin_map_json)
        if spec.behavior == "body-only":
            fields["_map"] = json_stringify(spec.schema.map)
            if not body:
                raise UnsupportedType("body-only record without a body")
        metadata = {header_key(k): metadata_encode(v) for k, v in fields.items()}
        data = body.encode("utf-8") if body else b""
        return StoredObject(
            key=record_key(self.resource, record_id),
            metadata=metadata,
            content_type=JSON_TYPE if data else OCTET_STREAM,
            body=data,
        )

    def partition_keys(self, record: dict[str, Any], version: str | None = None) -> list[str]:
        """Relative keys of the partition references s3db.js writes for `record`."""
        return partition_keys(self.resource, self.partitions, record)

    def partition_object(self, key: str, version: str) -> StoredObject:
        """A partition reference as s3db.js writes it: empty, metadata `_v` only."""
        return StoredObject(key=key, metadata={"_v": metadata_encode(version)}, content_type=OCTET_STREAM, body=b"")


#: Types whose s3db.js validator alias has a custom check: fastest-validator assigns its result, so an absent
#: optional field becomes a present `undefined`, stored as the text "undefined".
_CUSTOM_CHECKED = {"json", "datetime", "dateonly", "cron", "locale", "country", "timeonly", "mac", "cidr", "semver",
                   "phone", "color", "duration", "ean", "currency"}


def _validator_undefined(definitions: dict[str, Any]) -> tuple[str, ...]:
    """Top-level attributes of a custom-checked type, in definition order: an insert without them stores them
    as undefined."""
    names = []
    for name, definition in definitions.items():
        if name.startswith("$$"):
            continue
        if isinstance(definition, dict):
            continue  # nested objects keep absent fields absent (seen in s3db.js 21.6.2 objects)
        base = definition.split("|", 1)[0] if isinstance(definition, str) else None
        if base in _CUSTOM_CHECKED:
            names.append(name)
    return tuple(names)


def _json_or(text: str, fallback: Any) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return fallback
