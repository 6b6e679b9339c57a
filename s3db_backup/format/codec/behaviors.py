"""The five s3db.js 21.6.2 behaviors (`behaviors/*.js`): how a mapped record is split between user metadata
and a JSON body on insert, and how get() puts them back together (`hydrateObject` ->
`behavior.handleGet` -> `Resource.composeFullObjectFromWrite`), quirks included.

- user-managed: all in metadata; over the limit only `_v` stays and the whole mapped record goes to the body.
- enforce-limits: all in metadata; over the limit the insert fails (MetadataLimitExceeded).
- truncate-data: smallest fields first; the first field that does not fit is cut (UTF-16 units) and the rest
  dropped; `_truncated: true` marks it.
- body-overflow: smallest fields first into metadata, the rest as a JSON body; `_overflow: true` marks it.
- body-only: metadata `_v` and `_map` (JSON attribute -> key), the whole mapped record as JSON body.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from s3db_backup.format.codec.js import (
    UNDEFINED,
    JSError,
    js_items,
    js_keys,
    js_string,
    json_parse,
    json_stringify,
    utf16_len,
    utf16_slice,
)
from s3db_backup.format.codec.metadata import attribute_sizes, total_size, utf8_size
from s3db_backup.format.codec.plugins import plugin_map_from_meta
from s3db_backup.format.codec.schema import VersionSchema

BEHAVIORS = ("user-managed", "enforce-limits", "truncate-data", "body-overflow", "body-only")
_OVERFLOW_FLAG_BYTES = utf8_size("$overflow") + utf8_size("true")
_TRUNCATED_FLAG_BYTES = utf8_size("$truncated") + utf8_size("true")
_PLUGIN_MAP_KEY_BYTES = utf8_size("_pluginMap")


class MetadataLimitExceeded(ValueError):
    """enforce-limits: s3db.js refuses to insert a record whose metadata is over the limit."""


def _sorted_by_size(mapped: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted(js_items(attribute_sizes(mapped)), key=lambda kv: kv[1])  # stable, like Array.sort


def split_insert(behavior: str, mapped: dict[str, Any], limit: int, plugin_map: str = "") -> tuple[dict[str, Any], str]:
    """`behavior.handleInsert`: (metadata fields, body text) for a mapped record. `plugin_map` is the JSON of the
    schema's plugin map, "" when it is empty: user-managed (over the limit), body-overflow and body-only store it
    as `_pluginMap` so that a reader can unmap the body (plugins.py)."""
    if behavior == "user-managed":
        if total_size(mapped) > limit:
            meta = {"_v": mapped.get("_v", UNDEFINED)}
            if plugin_map:
                meta["_pluginMap"] = plugin_map
            return meta, json_stringify(mapped)
        return mapped, ""
    if behavior == "enforce-limits":
        size = total_size(mapped)
        if size > limit:
            raise MetadataLimitExceeded(f"metadata of {size} bytes is over the {limit}-byte limit")
        return mapped, ""
    if behavior == "body-only":
        meta = {"_v": mapped.get("_v") or UNDEFINED, "_map": None}
        if plugin_map:
            meta["_pluginMap"] = plugin_map
        return meta, json_stringify(mapped)
    if behavior == "body-overflow":
        return _overflow(mapped, limit, plugin_map)
    if behavior == "truncate-data":
        return _truncate(mapped, limit), ""
    raise ValueError(f"unknown behavior {behavior!r}")


def _overflow(mapped: dict[str, Any], limit: int, plugin_map: str = "") -> tuple[dict[str, Any], str]:
    sizes = attribute_sizes(mapped)
    meta: dict[str, Any] = {}
    body: dict[str, Any] = {}
    current = 0
    will_overflow = False
    if mapped.get("_v"):
        meta["_v"] = mapped["_v"]
        current += sizes["_v"]
    if plugin_map:  # counted before any field, like `_v`
        meta["_pluginMap"] = plugin_map
        current += _PLUGIN_MAP_KEY_BYTES + utf8_size(plugin_map)
    reserved = limit
    for name, size in _sorted_by_size(mapped):
        if name == "_v":
            continue
        if not will_overflow and current + size > limit:
            reserved -= _OVERFLOW_FLAG_BYTES
            will_overflow = True
        if not will_overflow and current + size <= reserved:
            meta[name] = mapped[name]
            current += size
        else:
            body[name] = mapped[name]
            will_overflow = True
    if will_overflow:
        meta["$overflow"] = "true"
    return meta, json_stringify(body) if body else ""


def _truncate_string(text: str, max_bytes: int) -> str:
    if utf8_size(text) <= max_bytes:
        return text
    length = utf16_len(text)
    while length > 0:
        cut = utf16_slice(text, length)
        if utf8_size(cut) <= max_bytes:
            return cut
        length -= 1
    return ""


def _truncate_value(value: Any, max_bytes: int) -> str:
    if isinstance(value, str):
        return _truncate_string(value, max_bytes)
    if isinstance(value, dict | list) and value is not None:
        return _truncate_string(json_stringify(value), max_bytes)
    return _truncate_string(js_string(value), max_bytes)


def _truncate(mapped: dict[str, Any], limit: int) -> dict[str, Any]:
    sizes = attribute_sizes(mapped)
    result: dict[str, Any] = {}
    current = 0
    truncated = False
    if mapped.get("_v"):
        result["_v"] = mapped["_v"]
        current += sizes["_v"]
    for name, size in _sorted_by_size(mapped):
        if name == "_v":
            continue
        value = mapped[name]
        needed = size + (0 if truncated else _TRUNCATED_FLAG_BYTES)
        if current + needed <= limit:
            result[name] = value
            current += size
        else:
            available = limit - current - (0 if truncated else _TRUNCATED_FLAG_BYTES)
            if available > 0:
                cut = _truncate_value(value, available)
                result[name] = cut
                truncated = True
                current += utf8_size(cut)
            else:
                result[name] = ""
                truncated = True
            break
    final = total_size(result) + (_TRUNCATED_FLAG_BYTES if truncated else 0)
    while final > limit:
        names = [k for k in js_keys(result) if k not in ("_v", "$truncated")]
        if not names:
            break
        if result[names[-1]] == "":
            # s3db.js blanks the same (last) key again and again: its insert never returns.
            raise MetadataLimitExceeded("truncate-data: s3db.js 21.6.2 loops forever on this record")
        result[names[-1]] = ""
        final = total_size(result) + _TRUNCATED_FLAG_BYTES
        truncated = True
    if truncated:
        result["$truncated"] = "true"
    return result


# --- get() ---------------------------------------------------------------------------------------------


def _parse_or(text: str, fallback: Any) -> tuple[bool, Any]:
    try:
        return True, json_parse(text)
    except JSError:
        return False, fallback


def handle_get(behavior: str, metadata: dict[str, Any], body: str) -> dict[str, Any]:
    """`behavior.handleGet`: the metadata object passed on to composeFullObjectFromWrite."""
    if behavior in ("enforce-limits", "truncate-data"):
        return metadata
    if behavior in ("user-managed",) and not (body and body.strip()):
        return metadata
    if behavior == "user-managed":
        ok, parsed = _parse_or(body, None)
        return {**parsed, **metadata} if ok and isinstance(parsed, dict) else metadata
    body_data: Any = {}
    if body and body.strip():
        ok, parsed = _parse_or(body, {})
        body_data = parsed if ok else {}
    merged = {**_spreadable(body_data), **metadata}
    if behavior == "body-overflow":
        merged.pop("$overflow", None)
    return merged


def _spreadable(value: Any) -> dict[str, Any]:
    """`{...value}` for a parsed JSON value: objects spread, arrays by index, strings by character."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, str):
        return {str(i): c for i, c in enumerate(value)}
    return {}


def _fix_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return value
    if isinstance(value, str):
        if value == "[object Object]":
            return {}
        if value.startswith(("{", "[")):
            return _parse_or(value, value)[1]
    return value


def _fixed_public(merged: dict[str, Any], plugin_names: Container[str] = ()) -> dict[str, Any]:
    """The record get() returns: every value fixed (_fix_value), then the `_` internals filtered out (but
    `_geohash*` and plugin attributes), in JavaScript order. One pass, filtering first: _fix_value is pure, so the
    record is the same."""
    out: dict[str, Any] = {}
    for k, v in js_items(merged):
        if k.startswith("_") and k != "_geohash" and not k.startswith("_geohash_zoom") and k not in plugin_names:
            continue
        out[k] = _fix_value(v) if type(v) is str else v  # _fix_value returns anything but text as is
    return out


def _unmap_or(schema: VersionSchema, data: dict[str, Any], fallback: Any, map_override=None,
              plugin_override=None) -> Any:
    try:
        return schema.unmapper(data, map_override, plugin_override)
    except JSError:
        return fallback


def compose(schema: VersionSchema, behavior: str, record_id: str, metadata: dict[str, Any], body: str) -> dict:
    """`Resource.composeFullObjectFromWrite` as get() calls it."""
    # get()'s second unmapper pass: skipped where the schema proves it would give `metadata` back anyway.
    unmapped = metadata if schema.unmaps_to_itself(metadata) else _unmap_or(schema, metadata, metadata)
    plugin_names = schema.plugin_map  # filterInternalFields keeps them, `_` or not
    # Bodies are unmapped with the writer's plugin map when the object stored one (`_pluginmap`).
    plugin_override = plugin_map_from_meta(metadata) if "_pluginmap" in metadata else None
    if behavior == "body-overflow":
        # get() hands over metadata whose keys were lower-cased by S3: `$overflow` is never seen here, so
        # the body fields reach the result only through the metadata merge handleGet made.
        merged = {**unmapped, "id": record_id}
        return _fixed_public(merged, plugin_names)
    if behavior == "body-only":
        ok, parsed_body = _parse_or(body, UNDEFINED) if body else (True, {})
        map_from_meta: Any = schema.map
        raw_map = metadata.get("_map", UNDEFINED)
        if raw_map is not UNDEFINED and raw_map is not None and raw_map != "":
            if isinstance(raw_map, str):
                ok_map, parsed_map = _parse_or(raw_map, None)
                map_from_meta = parsed_map if ok_map else schema.map
            else:
                map_from_meta = raw_map
        body_data: Any = {}
        if ok and isinstance(parsed_body, dict):
            override = map_from_meta if isinstance(map_from_meta, dict) else {}
            override = {k: js_string(v) for k, v in override.items()}
            body_data = _unmap_or(schema, parsed_body, {}, override, plugin_override)
        if any(not k.startswith("_") and k != "id" for k in body_data):
            result = {**body_data, "id": record_id}
            return {k: _fix_value(v) for k, v in js_items(result)}
        merged = {**unmapped, **body_data, "id": record_id}
        return _fixed_public(merged, plugin_names)
    if behavior == "user-managed" and body and body.strip():
        ok, parsed_body = _parse_or(body, None)
        if ok:
            body_data = (_unmap_or(schema, parsed_body, {}, None, plugin_override) if isinstance(parsed_body, dict)
                         else {})
            merged = {**body_data, **unmapped, "id": record_id}
            return _fixed_public(merged, plugin_names)
    result = {**unmapped, "id": record_id}
    return _fixed_public(result, plugin_names)
