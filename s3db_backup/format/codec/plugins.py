"""Plugin attributes of s3db.js 21.6.2: attributes a plugin adds to a resource (`Resource.addPluginAttribute`,
resource.class.js:409), stored under keys of their own instead of the schema's base-36 indexes.

Why a separate module: their keys come from a second map (`Schema.pluginMap`, schema.class.js:804-831), built
from a hash of plugin and attribute names rather than from `schemaRegistry`, and they change three things the
rest of the codec does: the mapper and unmapper look the plugin map up first (`pluginMap[key] || map[key]`,
schema.class.js:1327 and 1546), some behaviors store the map itself in metadata as `_pluginMap` (read back as
`_pluginmap`: user-managed over the limit, body-overflow, body-only), and get() keeps a plugin attribute even
when its name starts with `_` (`filterInternalFields`, resource.class.js:791).

What s3db.json says, and so what a reader that connects sees (database-connection.class.js:135):
- a plugin attribute is a version attribute whose definition is an object with a truthy `__plugin__` (the
  plugin's name); `addPluginAttribute` also writes `__pluginCreated__` (a timestamp) into it;
- `pluginSchemaRegistry` (per plugin: `mapping` attribute -> key, `burned`) gives the keys; when the resource
  has none, the keys are the hashes alone (`generatePluginMapping`);
- a plugin attribute with a string definition keeps its plugin name in `_pluginAttributeMetadata`, which
  s3db.json does not hold: a reader sees an ordinary attribute, so nothing here applies to it.

A non-empty object value is not stored under the plugin key: flatten() spreads it into dotted keys that are in
neither map (`snapshot.name`, stored as metadata key `snapshot_name`), and get() returns them under that key
(GraphPlugin's `snapshot`, graph.plugin.js:102). `spread_prefixes` lets those keys into the layout.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

from s3db_backup.format.codec.base62 import encode as base62_encode
from s3db_backup.format.codec.js import UNDEFINED, JSError, js_string, json_parse
from s3db_backup.format.codec.mapping import attribute_names_with_plugins, plugin_name

__all__ = ["PluginMapError", "attribute_hash", "plugin_attributes", "plugin_map", "plugin_map_from_meta",
           "spread_prefixes"]


class PluginMapError(ValueError):
    """s3db.js 21.6.2 cannot build the plugin map from s3db.json (its Schema constructor throws on connect)."""


def attribute_hash(plugin: str, attribute: str) -> str:
    """`generatePluginAttributeHash`: 'p' + the first three base-62 digits (lower-cased) of the first four bytes
    of sha256("<plugin>:<attribute>")."""
    digest = hashlib.sha256(f"{plugin}:{attribute}".encode()).digest()
    return "p" + base62_encode(int.from_bytes(digest[:4], "big")).rjust(3, "0")[:3].lower()


def plugin_attributes(attributes: dict[str, Any]) -> list[tuple[str, str]]:
    """(attribute, plugin name) of a version's plugin attributes, in the order s3db.js's Schema finds them.

    PluginMapError for a plugin name that is not a string: s3db.js would hash and register its text form, a
    guess this codec does not make."""
    out = []
    for name in attribute_names_with_plugins(attributes):
        plugin = plugin_name(attributes, name)
        if plugin is UNDEFINED:
            continue
        if not isinstance(plugin, str):
            raise PluginMapError(f"plugin attribute {name!r} names its plugin with a {type(plugin).__name__}")
        out.append((name, plugin))
    return out


def plugin_map(attributes: dict[str, Any], registries: Any) -> dict[str, str]:
    """attribute -> stored key of a version's plugin attributes, as s3db.js's Schema constructor builds it from
    s3db.json (`generatePluginMappingFromRegistry` when the resource has a `pluginSchemaRegistry`, even an empty
    one; `generatePluginMapping` otherwise). Insertion order is s3db.js's: the `_pluginMap` JSON follows it."""
    found = plugin_attributes(attributes)
    if registries is None or registries is False or registries == "" or registries == 0:  # JavaScript falsy
        return _hashed(found)
    if not isinstance(registries, dict):
        raise PluginMapError("pluginSchemaRegistry is not an object")
    return _from_registries(found, registries)


def _hashed(found: list[tuple[str, str]]) -> dict[str, str]:
    """`generatePluginMapping`: hash keys, a counter appended on collision."""
    used: set[str] = set()
    return {name: _unused_hash(plugin, name, used) for name, plugin in found}


def _unused_hash(plugin: str, name: str, used: set[str]) -> str:
    """The attribute's hash key, with a counter appended while it collides with `used` (which it joins)."""
    key = base = attribute_hash(plugin, name)
    counter = 1
    while key in used:
        key = f"{base}{counter}"
        counter += 1
    used.add(key)
    return key


def _from_registries(found: list[tuple[str, str]], registries: dict[str, Any]) -> dict[str, str]:
    """`generatePluginMappingFromRegistry`: a registered key wins; new attributes get a hash key not used by any
    registry seen so far (keys and burned keys), with a counter on collision."""
    by_plugin: dict[str, list[str]] = {}
    for name, plugin in found:
        by_plugin.setdefault(plugin, []).append(name)
    used: set[str] = set()
    out: dict[str, str] = {}
    for plugin, names in by_plugin.items():
        existing = registries.get(plugin)
        mapping: dict[str, Any] = {}
        if _truthy(existing):
            if not isinstance(existing, dict) or not isinstance(existing.get("mapping"), dict):
                raise PluginMapError(f"pluginSchemaRegistry.{plugin} has no mapping object")
            mapping = existing["mapping"]
            burned = existing.get("burned")
            if not isinstance(burned, list):
                raise PluginMapError(f"pluginSchemaRegistry.{plugin} has no burned list")
            if any(not isinstance(v, str) for v in mapping.values()):
                raise PluginMapError(f"pluginSchemaRegistry.{plugin} maps to non-string keys")
            if any(not isinstance(b, dict) or not isinstance(b.get("key"), str) for b in burned):
                raise PluginMapError(f"pluginSchemaRegistry.{plugin} has invalid burned entries")
            used.update(mapping.values())
            used.update(b["key"] for b in burned)
        for name in names:
            key = mapping.get(name)
            # A registered key (a non-empty string) wins; otherwise a fresh hash key.
            out[name] = key if key else _unused_hash(plugin, name, used)
    return out


def spread_prefixes(names: Iterable[str]) -> tuple[str, ...]:
    """Metadata key prefixes of the dotted keys flatten() makes from a plugin attribute's non-empty object value
    (`snapshot.name` -> `snapshot_name`): keys s3db.js writes for that attribute although neither map has them."""
    from s3db_backup.format.codec.schema import _header_key

    return tuple(_header_key(name) + "_" for name in names)


def plugin_map_from_meta(metadata: dict[str, Any]) -> dict[str, str] | None:
    """The stored key -> attribute map composeFullObjectFromWrite unmaps a body with: `invert()` of the object's
    own `_pluginmap` (the writer's plugin map; after the first unmapper pass usually already an object), or None
    where s3db.js falls back to its schema's map (absent, falsy, or text that is not JSON)."""
    raw = metadata.get("_pluginmap", UNDEFINED)
    if not _truthy(raw):
        return None
    if isinstance(raw, str):
        try:
            raw = json_parse(raw)
        except JSError:
            return None
        if not _truthy(raw):
            return None
    return _invert(raw)


def _invert(value: Any) -> dict[str, str]:
    """lodash `invert`: own enumerable keys of the value (array indexes, string positions) keyed by their value's
    text; a later key wins."""
    if isinstance(value, dict):
        items: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    elif isinstance(value, str):
        items = ((str(i), c) for i, c in enumerate(value))
    else:
        return {}
    return {js_string(v): k for k, v in items}


def _truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    return True
