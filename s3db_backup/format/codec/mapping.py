"""Attribute -> short metadata key for one schema version, from s3db.json (`Schema` constructor of s3db.js 21.6.2).

Keys are the attribute's index in base 36 (`encodeKey`: 0..9, a..z, 10, 11, ...). Indexes come from the
resource's `schemaRegistry` (`mapping`: attribute -> index; `burned`: indexes of removed attributes, never
reused), or from a legacy per-version `map`, or (no registry at all) from the attributes' order. Attribute
names are the flattened leaf paths (`shipping.city`) plus every nested object's path (`shipping`).
"""

from __future__ import annotations

from typing import Any

from s3db_backup.format.codec.base62 import encode_key
from s3db_backup.format.codec.js import UNDEFINED, js_items


def leaf_keys(attributes: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in js_items(attributes):
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.extend(leaf_keys(value, path))
        else:
            out.append(path)
    return [k for k in out if "$$" not in k]


def object_keys(attributes: dict[str, Any], prefix: str = "") -> list[str]:
    """`extractObjectKeys`: paths of nested object definitions."""
    out: list[str] = []
    for key, value in js_items(attributes):
        if key.startswith("$$"):
            continue
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.append(path)
            if value.get("$$type") == "object":
                out.extend(object_keys(value, path))
    return out


def attribute_names_with_plugins(attributes: dict[str, Any]) -> list[str]:
    """`allKeys` of s3db.js's Schema: leaf paths, then nested object paths, each once (plugin attributes too)."""
    return list(dict.fromkeys(leaf_keys(attributes) + object_keys(attributes)))


def attribute_names(attributes: dict[str, Any]) -> list[str]:
    """User attribute names in the order s3db.js assigns indexes to new ones (plugin attributes get keys from the
    plugin map instead: see plugins.py)."""
    return [k for k in attribute_names_with_plugins(attributes) if plugin_name(attributes, k) is UNDEFINED]


def plugin_name(attributes: dict[str, Any], name: str) -> Any:
    """The `__plugin__` of `name`'s definition when it marks a plugin attribute (an object whose `__plugin__` is
    JavaScript-truthy: schema.class.js:757), else UNDEFINED."""
    node: Any = attributes
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return UNDEFINED
    value = node.get("__plugin__")
    falsy = value is None or value is False or value == "" or (
        isinstance(value, int | float) and not isinstance(value, bool) and (value == 0 or value != value))
    return UNDEFINED if falsy else value


class MappingError(ValueError):
    """An attribute of a version has no index in s3db.json (neither mapped nor burned)."""


def version_map(attributes: dict[str, Any], registry: dict[str, Any] | None, legacy_map: dict[str, str] | None,
                *, current: bool) -> dict[str, str]:
    """attribute -> short key for one version.

    The current version maps exactly like s3db.js does on connect. An older version's removed attributes are
    found among the registry's burned entries (the index they had); if one is not, MappingError.
    """
    names = attribute_names(attributes)
    if legacy_map:
        out = {k: str(v) for k, v in legacy_map.items()}
        if registry is None:
            return out
        names = [n for n in names if n not in out]
    else:
        out = {}
    if registry is None:
        return {name: encode_key(i) for i, name in enumerate(names)}
    mapping = dict(registry.get("mapping") or {})
    burned = {b.get("attribute"): b.get("index") for b in registry.get("burned") or [] if isinstance(b, dict)}
    taken = [v for v in mapping.values() if isinstance(v, int)] + [v for v in burned.values() if isinstance(v, int)]
    next_index = max([registry.get("nextIndex") or 0, *(i + 1 for i in taken)])
    for name in names:
        if isinstance(mapping.get(name), int):
            out[name] = encode_key(mapping[name])
        elif not current and isinstance(burned.get(name), int):
            out[name] = encode_key(burned[name])
        elif current:
            # s3db.js would assign the next free index on connect (and persist it); mirror that.
            out[name] = encode_key(next_index)
            next_index += 1
        else:
            raise MappingError(f"attribute {name!r} of an old version has no index in schemaRegistry")
    return out
