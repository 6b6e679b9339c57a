"""Partition references of s3db.js 21.6.2 (`core/resource-partitions.class.js`).

A partition `{fields: {field: rule}}` gives each record one zero-byte object
`resource=<r>/partition=<p>/<field>=<value>[/<field>=<value>...]/id=<id>`: fields in `localeCompare` order,
a `maxlength:N` rule cuts strings to N UTF-16 units, a rule containing `date` turns ISO datetimes into
`YYYY-MM-DD`; a record missing any field gets no reference for that partition. The key goes through Node's
`path.join`, so `/` inside a value adds segments and `.`/`..` segments are resolved.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from s3db_backup.format.codec.js import UNDEFINED, js_items, js_string, utf16_len, utf16_slice


def _locale_key(name: str) -> tuple[str, str]:
    # ICU root collation for identifier-like names: case-insensitive first, lower case before upper case.
    return (name.lower(), name.swapcase())


def _nested(data: dict[str, Any], path: str) -> Any:
    if "." not in path:
        return data.get(path, UNDEFINED)
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return UNDEFINED
        current = current[part]
    return current


def apply_rule(value: Any, rule: Any) -> Any:
    if value is None or value is UNDEFINED:
        return value
    out = value
    if isinstance(rule, str) and "maxlength:" in rule:
        m = re.search(r"maxlength:(\d+)", rule)
        if m and isinstance(out, str) and utf16_len(out) > int(m.group(1)):
            out = utf16_slice(out, int(m.group(1)))
    if isinstance(rule, str) and "date" in rule and isinstance(out, str):
        if "T" in out and "Z" in out:
            out = out.split("T")[0]
        else:
            from s3db_backup.format.codec.schema import date_parse_ms, to_iso_string
            from s3db_backup.format.codec.types import UnsupportedType

            try:
                ms = date_parse_ms(out)
            except UnsupportedType:
                ms = float("nan")  # free-form dates: left as they are (a guess only for non-ISO text)
            if ms == ms:
                out = to_iso_string(ms).split("T")[0]
    return out


def partition_key(resource: str, name: str, partition: dict[str, Any], record: dict[str, Any]) -> str | None:
    fields = partition.get("fields") or {}
    segments = []
    for field, rule in sorted(js_items(fields), key=lambda kv: _locale_key(kv[0])):
        value = apply_rule(_nested(record, field), rule)
        if value is None or value is UNDEFINED:
            return None
        segments.append(f"{field}={js_string(value)}")
    record_id = record.get("id")
    if not segments or not record_id:
        return None
    return posixpath.normpath(posixpath.join(f"resource={resource}", f"partition={name}", *segments, f"id={record_id}"))


def partition_keys(resource: str, partitions: dict[str, Any], record: dict[str, Any]) -> list[str]:
    keys = []
    for name, partition in js_items(partitions):
        if isinstance(partition, dict):
            key = partition_key(resource, name, partition, record)
            if key:
                keys.append(key)
    return keys
