"""One schema version of a resource: `Schema.mapper` (record -> short-keyed strings) and `Schema.unmapper`
(the reverse, quirks included) of s3db.js 21.6.2, ported step for step.

The port keeps JavaScript's order of operations on purpose: s3db.js's get() runs the unmapper twice on
metadata (once in hydrateObject, once in composeFullObjectFromWrite, falling back to the first result when
the second throws), and what a reader sees depends on that.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from s3db_backup.format.codec import base62
from s3db_backup.format.codec.js import (
    UNDEFINED,
    JSError,
    deep_copy,
    is_number,
    js_items,
    json_parse,
    json_stringify,
)
from s3db_backup.format.codec.packed import KINDS as PACKED_KINDS
from s3db_backup.format.codec.packed import pack, unpack
from s3db_backup.format.codec.types import UnsupportedType, generate_hooks, run_action, unsupported_hooks

#: Type names the mapper/unmapper special-case and this codec does not implement (none left in 21.6.2).
_UNSUPPORTED_SPECIAL: tuple[str, ...] = ()


def _header_key(key: str) -> str:
    return re.sub(r"[^a-zA-Z0-9\-_]", "_", key).lower()


def special_kind(definition: Any) -> str | None:
    """Which special branch of mapper/unmapper a definition takes (their order), or None."""
    if not isinstance(definition, str):
        return None
    d = definition
    if d == "uuid" or d.startswith("uuid|"):
        return "uuid"
    if "datetime" in d:
        return "datetime"
    if "dateonly" in d:
        return "dateonly"
    for kind in PACKED_KINDS:
        if d == kind or d.startswith(kind + "|"):
            return kind
    return None


# --- Date ----------------------------------------------------------------------------------------------

_MAX_MS = 8.64e15
_ISO = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?(?P<z>Z|[+-]\d{2}:\d{2})?)?\Z"
)


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def date_parse_ms(text: str) -> int | float:
    """`new Date(text).getTime()` for the ISO forms whose meaning does not depend on the machine's zone.

    Raises UnsupportedType for anything else (local-time forms, free-text dates): the result would be a guess.
    """
    m = _ISO.match(text)
    if not m or (m.group("h") is not None and m.group("z") is None):
        raise UnsupportedType(f"date text {text!r} is not an ISO form with a known offset")
    y = int(m.group("y"))
    mo = int(m.group("mo") or 1)
    d = int(m.group("d") or 1)
    h, mi, s = int(m.group("h") or 0), int(m.group("mi") or 0), int(m.group("s") or 0)
    frac = (m.group("f") or "0")[:3].ljust(3, "0")
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 24 and mi <= 59 and s <= 59) or m.group("y") == "-000000":
        return math.nan
    if h == 24 and (mi or s or int(frac)):
        return math.nan
    ms = ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + int(frac)
    z = m.group("z")
    if z and z != "Z":
        sign = 1 if z[0] == "+" else -1
        ms -= sign * (int(z[1:3]) * 60 + int(z[4:6])) * 60000
    if _days_from_civil(y, mo, 1) + d - 1 != _days_from_civil(*_civil_from_days(_days_from_civil(y, mo, d))):
        return math.nan
    return ms if abs(ms) <= _MAX_MS else math.nan


def to_iso_string(ms: float | int) -> str:
    """`new Date(ms).toISOString()`; JSError (RangeError) for NaN or out-of-range times."""
    if not is_number(ms) or math.isnan(ms) or math.isinf(ms):
        raise JSError("RangeError: Invalid time value")
    ms = math.trunc(ms)
    if abs(ms) > _MAX_MS:
        raise JSError("RangeError: Invalid time value")
    ms = int(ms)
    days, rem = divmod(ms, 86_400_000)
    y, m, d = _civil_from_days(days)
    hh, rem = divmod(rem, 3_600_000)
    mm, rem = divmod(rem, 60_000)
    ss, mss = divmod(rem, 1000)
    year = f"{y:04d}" if 0 <= y <= 9999 else (("+" if y > 0 else "-") + f"{abs(y):06d}")
    return f"{year}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{mss:03d}Z"


# --- lodash get/set and flatten ----------------------------------------------------------------------------


def _get(obj: Any, path: str) -> Any:
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    current = obj
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part, UNDEFINED)
        elif isinstance(current, list) and part.isdigit():
            i = int(part)
            current = current[i] if i < len(current) else UNDEFINED
        else:
            return UNDEFINED
    return current


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    if path in obj:
        obj[path] = value
        return
    parts = path.split(".")
    current: Any = obj
    for part in parts[:-1]:
        current = current[int(part)] if isinstance(current, list) else current[part]
    _assign(current, parts[-1], value)


def _assign(container: Any, part: str, value: Any) -> None:
    if isinstance(container, dict):
        container[part] = value
    elif isinstance(container, list) and part.isdigit():
        i = int(part)
        while len(container) <= i:
            container.append(UNDEFINED)
        container[i] = value
    elif isinstance(container, list):
        raise JSError("cannot set a named member on an array in this port")
    else:
        raise JSError(f"TypeError: Cannot create property '{part}' on a primitive")


def flatten(obj: Any, path: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """`flatten(obj, {safe: true})`: nested objects to dotted keys; arrays, empty objects and scalars kept."""
    out = {} if out is None else out
    if obj is None or obj is UNDEFINED or not isinstance(obj, dict | list) or isinstance(obj, list):
        out[path] = obj
        return out
    if not obj:
        out[path] = {}
        return out
    for key, value in js_items(obj):
        flatten(value, f"{path}.{key}" if path else key, out)
    return out


def _falsy(value: Any) -> bool:
    return value is None or value is UNDEFINED or value is False or value == "" or (
        is_number(value) and (value == 0 or math.isnan(value)))


def unflatten(obj: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in js_items(obj):
        parts = key.split(".")
        current: Any = result
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                _assign(current, part, value)
                continue
            nxt = parts[i + 1]
            existing = current.get(part, UNDEFINED) if isinstance(current, dict) else (
                current[int(part)] if isinstance(current, list) and part.isdigit() and int(part) < len(current)
                else UNDEFINED)
            if _falsy(existing):
                _assign(current, part, [] if nxt.isdigit() and nxt.isascii() else {})
                existing = current[int(part)] if isinstance(current, list) else current[part]
            current = existing
    return result


@dataclass
class VersionSchema:
    """What s3db.js builds for one version: attributes, attribute -> short key map, hooks."""

    attributes: dict[str, Any]
    map: dict[str, str]
    separator: str = "|"
    hooks: dict[str, dict[str, list]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.hooks:
            self.hooks = generate_hooks(self.attributes)
        self.unsupported = unsupported_hooks(self.hooks)
        for name, definition in self._flat_definitions():
            kind = special_kind(definition)
            if kind in _UNSUPPORTED_SPECIAL:
                self.unsupported[name] = kind
        self.reversed_map = {v: k for k, v in self.map.items()}
        # s3db.js 21.6.2 hands buffer/bits values to flatten() as plain objects: each byte becomes its own
        # metadata key `<attribute>.<index>`, stored as `<attribute>_<index>` (S3's key rule), never the hook's
        # base64. Those keys belong to the layout.
        self.spread_prefixes = tuple(
            _header_key(name) + "_" for name, actions in self.hooks.get("beforeMap", {}).items()
            if any(action in ("encodeBuffer", "encodeBits") for action, _ in actions))

    def in_layout(self, key: str) -> bool:
        """Whether a stored metadata key is one this version's records can have."""
        if key in self.reversed_map:
            return True
        return any(key.startswith(p) and key[len(p):].isdigit() and key[len(p):].isascii()
                   for p in self.spread_prefixes)

    def _flat_definitions(self):
        from s3db_backup.format.codec.types import flatten_definitions

        return flatten_definitions(self.attributes).items()

    def check_supported(self) -> None:
        if self.unsupported:
            name, kind = next(iter(self.unsupported.items()))
            raise UnsupportedType(f"attribute {name!r}: type {kind} is not implemented by this codec")

    def definition(self, key: str) -> Any:
        node: Any = self.attributes
        for part in key.split("."):
            if not isinstance(node, dict):
                return UNDEFINED
            node = node.get(part, UNDEFINED)
        return node

    def _apply_hooks(self, item: dict[str, Any], hook: str) -> dict[str, Any]:
        cloned = deep_copy(item)
        for attribute, actions in js_items(self.hooks.get(hook, {})):
            for action, params in actions:
                value = _get(cloned, attribute)
                if value is not UNDEFINED:
                    _set(cloned, attribute, run_action(action, value, params, self.separator))
        return cloned

    # --- encode ------------------------------------------------------------------------------------------

    def mapper(self, record: dict[str, Any], version: str) -> dict[str, Any]:
        """`Schema.mapper` (record without `id`) with `_v` set to `version` as the resource does."""
        obj = self._apply_hooks(record, "beforeMap")
        rest: dict[str, Any] = {"_v": version}
        for key, value in js_items(flatten(obj)):
            if isinstance(value, bytes | bytearray):
                # A buffer its hook did not encode (bits of the wrong size): flatten() spreads it byte by byte.
                raise UnsupportedType(f"attribute {key!r}: a buffer s3db.js would store byte by byte")
            mapped_key = self.map.get(key) or key
            d = self.definition(key)
            kind = special_kind(d)
            if kind == "uuid":
                if isinstance(value, str) and value != "":
                    hexed = value.replace("-", "")
                    if len(hexed) == 32:
                        rest[mapped_key] = "".join(
                            base62.encode(int(hexed[i : i + 8], 16) if _is_hex(hexed[i : i + 8]) else math.nan)
                            .rjust(6, "0") for i in (0, 8, 16, 24))
                    else:
                        rest[mapped_key] = value
                else:
                    rest[mapped_key] = value
            elif kind == "datetime":
                if isinstance(value, str) and value != "":
                    ms = date_parse_ms(value)
                    rest[mapped_key] = base62.encode(ms) if math.isfinite(ms) else value
                else:
                    rest[mapped_key] = value
            elif kind == "dateonly":
                if isinstance(value, str) and value != "":
                    ms = date_parse_ms(value if "T" in value else value + "T00:00:00.000Z")
                    rest[mapped_key] = base62.encode(math.floor(ms / 86_400_000)) if math.isfinite(ms) else value
                else:
                    rest[mapped_key] = value
            elif kind is not None:
                rest[mapped_key] = pack(kind, value)
            elif is_number(value) and isinstance(d, str) and "number" in d:
                rest[mapped_key] = base62.encode(value)
            elif isinstance(value, str):
                rest[mapped_key] = "{}" if value == "[object Object]" else value
            elif isinstance(value, list | dict):
                rest[mapped_key] = json_stringify(value)
            else:
                rest[mapped_key] = value
        return rest

    # --- decode ------------------------------------------------------------------------------------------

    def unmapper(self, mapped: dict[str, Any], map_override: dict[str, str] | None = None) -> dict[str, Any]:
        """`Schema.unmapper`; raises JSError where s3db.js's would throw."""
        obj = deep_copy(mapped)
        obj.pop("_v", None)
        reversed_map = {v: k for k, v in map_override.items()} if map_override is not None else self.reversed_map
        after = self.hooks.get("afterUnmap", {})
        rest: dict[str, Any] = {}
        for key, value in js_items(obj):
            original = reversed_map.get(key) or key
            parsed = value
            d = self.definition(original)
            has_after = bool(after.get(original))
            kind = special_kind(d) if not has_after else None
            if kind == "uuid":
                if isinstance(parsed, str) and len(parsed) == 24 and "-" not in parsed:
                    words = []
                    for i in (0, 6, 12, 18):
                        n = base62.decode(parsed[i : i + 6])
                        words.append(_to_hex(n).rjust(8, "0"))
                    h = "".join(words)
                    parsed = f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
            elif kind == "datetime":
                if isinstance(parsed, str) and parsed != "":
                    parsed = to_iso_string(base62.decode(parsed))
            elif kind == "dateonly":
                if isinstance(parsed, str) and parsed != "":
                    days = base62.decode(parsed)
                    parsed = to_iso_string(days * 86_400_000 if is_number(days) else days)[:10]
            elif kind is not None:
                parsed = unpack(kind, parsed)
            elif (not has_after and isinstance(d, str) and "number" in d and "array" not in d
                  and "decimal" not in d):
                if isinstance(parsed, str) and parsed != "":
                    parsed = base62.decode(parsed)
                elif not is_number(parsed):
                    parsed = UNDEFINED
            elif isinstance(value, str):
                if value == "[object Object]":
                    parsed = {}
                elif value.startswith(("{", "[")):
                    parsed = _parse_or_keep(value)
            if isinstance(d, str) and "array" in d and not has_after:
                if isinstance(parsed, list):
                    pass
                elif isinstance(parsed, str) and parsed.strip().startswith("["):
                    try:
                        arr = json_parse(parsed)
                        if isinstance(arr, list):
                            parsed = arr
                    except JSError:
                        pass
                else:
                    parsed = run_action("toArray", parsed, {}, self.separator)
            for action, params in after.get(original) or []:
                parsed = run_action(action, parsed, params, self.separator)
            rest[original] = parsed
        rest = self._apply_hooks(rest, "afterUnmap")
        result = unflatten(rest)
        for key, value in js_items(mapped):
            if key.startswith("$"):
                result[key] = value
        return result


def _is_hex(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]+", text))


def _to_hex(n: float | int) -> str:
    if not is_number(n) or math.isnan(n):
        return "NaN"
    return format(int(n), "x") if n >= 0 else "-" + format(int(-n), "x")


def _parse_or_keep(text: str) -> Any:
    try:
        return json_parse(text)
    except JSError:
        return text
