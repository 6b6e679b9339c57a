"""One schema version of a resource: `Schema.mapper` (record -> short-keyed strings) and `Schema.unmapper`
(the reverse, quirks included) of s3db.js 21.6.2, ported step for step.

The port keeps JavaScript's order of operations on purpose: s3db.js's get() runs the unmapper twice on
metadata (once in hydrateObject, once in composeFullObjectFromWrite, falling back to the first result when
the second throws), and what a reader sees depends on that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
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
from s3db_backup.format.codec.types import (
    IDEMPOTENT,
    KEEPS,
    Action,
    UnsupportedType,
    action_function,
    generate_hooks,
    run_action,
    unsupported_hooks,
)

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
        if isinstance(value, dict):
            flatten(value, f"{path}.{key}" if path else key, out)
        else:  # what the recursive call does with a leaf, without the call
            out[f"{path}.{key}" if path else key] = value
    return out


def _falsy(value: Any) -> bool:
    return value is None or value is UNDEFINED or value is False or value == "" or (
        is_number(value) and (value == 0 or math.isnan(value)))


def unflatten(obj: dict[str, Any], *, dotted: bool = True) -> dict[str, Any]:
    """`unflatten(obj)`; a caller that knows no key holds a `.` says so with `dotted=False`."""
    items = js_items(obj)
    if not dotted or not any("." in key for key, _ in items):
        return dict(items)  # no path to split: each key is assigned once, in this order
    result: dict[str, Any] = {}
    for key, value in items:
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


#: Per-key plans are cached per schema version; keys outside the schema (from JSON bodies) are planned each
#: time once this many are cached, so a hostile body cannot grow the cache without bound.
_PLAN_CACHE_LIMIT = 4096

#: How `unmaps_to_itself` judges a key: which of the unmapper's branches it takes (when the key is the
#: attribute's own name), or never (its outcome is not worked out here).
_AGAIN_NEVER, _AGAIN_PLAIN, _AGAIN_UUID, _AGAIN_DATE = 0, 1, 2, 3


@dataclass(frozen=True)
class MapPlan:
    """What `Schema.mapper` decides for one flattened key from the schema alone."""

    mapped_key: str
    kind: str | None  # special_kind of its definition
    number: bool  # the definition mentions "number": numbers are stored in base 62


@dataclass(frozen=True)
class UnmapPlan:
    """What `Schema.unmapper` decides for one attribute from the schema alone, in the unmapper's own terms."""

    original: str
    kind: str | None  # special_kind, only when the attribute has no afterUnmap hooks
    number: bool  # the inline base-62 number branch (no hooks, "number" but not "array"/"decimal")
    array: bool  # the inline array branch (no hooks, "array" in the definition)
    after: tuple[tuple[Action, dict[str, Any]], ...]  # its afterUnmap hooks
    keeps: tuple[Callable[[Any], bool], ...] | None  # types.KEEPS of each hook; None if one has none
    again: int  # how unmaps_to_itself judges a value under the key `original` (_AGAIN_*)


@dataclass
class VersionSchema:
    """What s3db.js builds for one version: attributes, attribute -> short key map, hooks.

    Everything the mapper and unmapper derive from the schema alone (per-key plans, the hooks' functions) is
    computed once here or cached on first use: a backup runs both for every record of the version. So the
    attributes, map and hooks are fixed once the schema is built."""

    attributes: dict[str, Any]
    map: dict[str, str]
    separator: str = "|"
    hooks: dict[str, dict[str, list]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    plugin_map: dict[str, str] = field(default_factory=dict)  # plugin attribute -> key (plugins.py)

    def __post_init__(self) -> None:
        if not self.hooks:
            self.hooks = generate_hooks(self.attributes)
        self.unsupported = unsupported_hooks(self.hooks)
        for name, definition in self._flat_definitions():
            kind = special_kind(definition)
            if kind in _UNSUPPORTED_SPECIAL:
                self.unsupported[name] = kind
        self.reversed_map = {v: k for k, v in self.map.items()}
        # `reversedPluginMap[key] || reversedMap[key] || key`: a plugin key wins over an index key.
        self.reversed_plugin_map = {v: k for k, v in self.plugin_map.items()}
        self.reversed_map.update(self.reversed_plugin_map)
        # s3db.js 21.6.2 hands buffer/bits values to flatten() as plain objects: each byte becomes its own
        # metadata key `<attribute>.<index>`, stored as `<attribute>_<index>` (S3's key rule), never the hook's
        # base64. Those keys belong to the layout.
        self.spread_prefixes = tuple(
            _header_key(name) + "_" for name, actions in self.hooks.get("beforeMap", {}).items()
            if any(action in ("encodeBuffer", "encodeBits") for action, _ in actions))
        # _apply_hooks' steps in its order (attributes in JavaScript order, then each one's actions).
        self._hook_steps = {
            hook: tuple((attribute, action_function(action), params)
                        for attribute, actions in js_items(table) for action, params in actions)
            for hook, table in self.hooks.items()
        }
        self._hooked_roots = {attribute.split(".", 1)[0] for attribute in self.hooks.get("afterUnmap", {})
                              if "." in attribute}
        self._after_rerun = self._after_rerun_steps()
        self._map_plans: dict[str, MapPlan] = {}
        self._unmap_plans: dict[str, UnmapPlan] = {}  # by attribute name
        self._key_plans: dict[str, UnmapPlan] = {}  # by stored key, through reversed_map

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
        separator = self.separator
        for attribute, action, params in self._hook_steps.get(hook, ()):
            _run_step(cloned, attribute, action, params, separator)
        return cloned

    def _after_rerun_steps(self) -> tuple[tuple[str, Action, dict[str, Any]], ...]:
        """The afterUnmap steps whose re-run by the unmapper (after each value already went through its hooks)
        can change something. A step is left out when its attribute is a top-level name no other hook reaches
        into and its only action is IDEMPOTENT: the value under that name is then that action's own output
        (the unmapper's loop puts nothing else there), or absent, and either way the re-run leaves it as is."""
        table = self.hooks.get("afterUnmap", {})
        return tuple(
            (attribute, action, params) for attribute, action, params in self._hook_steps.get("afterUnmap", ())
            if not ("." not in attribute and attribute not in self._hooked_roots and len(table[attribute]) == 1
                    and table[attribute][0][0] in IDEMPOTENT))

    def _rerun_after_hooks(self, rest: dict[str, Any]) -> dict[str, Any]:
        """`_apply_hooks(rest, "afterUnmap")` for the unmapper's own `rest`, without the steps that provably
        change nothing; `rest` itself when none is left (the unmapper owns it and only reads it afterwards)."""
        if not self._after_rerun:
            return rest
        cloned = deep_copy(rest)
        separator = self.separator
        for attribute, action, params in self._after_rerun:
            _run_step(cloned, attribute, action, params, separator)
        return cloned

    # --- plans -------------------------------------------------------------------------------------------

    def _map_plan(self, key: str) -> MapPlan:
        plan = self._map_plans.get(key)
        if plan is None:
            d = self.definition(key)
            plan = MapPlan(self.plugin_map.get(key) or self.map.get(key) or key, special_kind(d),
                           isinstance(d, str) and "number" in d)
            _remember(self._map_plans, key, plan)
        return plan

    def _unmap_plan(self, original: str) -> UnmapPlan:
        plan = self._unmap_plans.get(original)
        if plan is None:
            d = self.definition(original)
            after = self.hooks.get("afterUnmap", {}).get(original) or []
            has_after = bool(after)
            keeps = tuple(KEEPS.get(action) for action, _ in after)
            kind = special_kind(d) if not has_after else None
            number = (not has_after and isinstance(d, str) and "number" in d and "array" not in d
                      and "decimal" not in d)
            array = isinstance(d, str) and "array" in d and not has_after
            plan = UnmapPlan(
                original=original,
                kind=kind,
                number=number,
                array=array,
                after=tuple((action_function(action), params) for action, params in after),
                keeps=None if None in keeps else keeps,  # type: ignore[arg-type]
                again=self._again_kind(original, kind, number or array, None in keeps),
            )
            _remember(self._unmap_plans, original, plan)
        return plan

    def _again_kind(self, name: str, kind: str | None, inline_branch: bool, unknown_hook: bool) -> int:
        """How unmaps_to_itself judges values under the key `name` (see _AGAIN_*).

        A key the unmapper renames is never judged: any map the unmapper consults besides reversed_map (such
        as a plugin map) must be checked here too, and its keys' plans kept apart."""
        if name in self.reversed_map or name == "_v" or name.startswith("$") or "." in name:
            return _AGAIN_NEVER  # renamed, dropped, copied back or re-nested by the unmapper
        if name in self._hooked_roots or inline_branch or unknown_hook:
            return _AGAIN_NEVER
        if kind is None:
            return _AGAIN_PLAIN
        if kind == "uuid":
            return _AGAIN_UUID
        if kind in ("datetime", "dateonly"):
            return _AGAIN_DATE
        return _AGAIN_NEVER

    def _key_plan(self, key: str) -> UnmapPlan:
        plan = self._key_plans.get(key)
        if plan is None:
            plan = self._unmap_plan(self.reversed_map.get(key) or key)
            _remember(self._key_plans, key, plan)
        return plan

    # --- encode ------------------------------------------------------------------------------------------

    def mapper(self, record: dict[str, Any], version: str) -> dict[str, Any]:
        """`Schema.mapper` (record without `id`) with `_v` set to `version` as the resource does."""
        obj = self._apply_hooks(record, "beforeMap")
        rest: dict[str, Any] = {"_v": version}
        for key, value in js_items(flatten(obj)):
            if isinstance(value, bytes | bytearray):
                # A buffer its hook did not encode (bits of the wrong size): flatten() spreads it byte by byte.
                raise UnsupportedType(f"attribute {key!r}: a buffer s3db.js would store byte by byte")
            plan = self._map_plan(key)
            rest[plan.mapped_key] = _map_value(plan, value)
        return rest

    # --- decode ------------------------------------------------------------------------------------------

    def unmapper(self, mapped: dict[str, Any], map_override: dict[str, str] | None = None,
                 reversed_plugin_override: dict[str, str] | None = None) -> dict[str, Any]:
        """`Schema.unmapper`; raises JSError where s3db.js's would throw. The plugin override is already inverted
        (stored key -> attribute: plugins.plugin_map_from_meta)."""
        obj = deep_copy(mapped)
        obj.pop("_v", None)
        if map_override is None and reversed_plugin_override is None:
            plan_of = self._key_plan
        else:
            reversed_map = {v: k for k, v in (self.map if map_override is None else map_override).items()}
            reversed_map.update(self.reversed_plugin_map if reversed_plugin_override is None
                                else reversed_plugin_override)

            def plan_of(key: str) -> UnmapPlan:
                return self._unmap_plan(reversed_map.get(key) or key)

        separator = self.separator
        rest: dict[str, Any] = {}
        dotted = False
        for key, value in js_items(obj):
            plan = plan_of(key)
            rest[plan.original] = _unmap_value(plan, value, separator)
            dotted = dotted or "." in plan.original
        rest = self._rerun_after_hooks(rest)
        result = unflatten(rest, dotted=dotted)
        for key, value in mapped.items():  # `$` keys are never array indexes: insertion order is JS order
            if key.startswith("$"):
                result[key] = value
        return result

    def unmaps_to_itself(self, data: dict[str, Any]) -> bool:
        """Whether `unmapper(data)` returns `data` (an equal record, same JavaScript key order) or throws a
        JSError, so that a caller falling back to `data` on JSError can use `data` without running it.

        get() runs the unmapper a second time on what the first pass returned; for the common types that
        second pass changes nothing, and proving so per value costs a fraction of running it. Only keys whose
        outcome follows from the unmapper's steps are judged; any other key makes the answer False, and the
        caller runs the unmapper."""
        plans = self._unmap_plans
        for key, value in data.items():
            plan = plans.get(key) or self._unmap_plan(key)
            again = plan.again
            if again == _AGAIN_PLAIN:
                # the string branch, then the hooks (run twice: in the loop and by _apply_hooks)
                kind_of_value = type(value)
                if kind_of_value is str:
                    if value == "[object Object]" or value.startswith(("{", "[")):
                        return False
                elif kind_of_value not in _PASSIVE:
                    return False
                for keep in plan.keeps or ():
                    if not keep(value):
                        return False
            elif again == _AGAIN_UUID:
                if type(value) is str:
                    if len(value) == 24 and "-" not in value:
                        return False
                elif type(value) not in _PASSIVE:
                    return False
            elif again == _AGAIN_DATE:
                if type(value) is str and value != "":
                    if not _date_branch_throws(plan.kind, value):  # type: ignore[arg-type]
                        return False
                elif type(value) not in _PASSIVE:
                    return False
            else:
                return False
        # Every key keeps its value, or one throws (the first in JavaScript order does, the keys before it
        # keeping theirs): either way the caller ends up with `data`.
        return True


#: Value types the unmapper passes through untouched when no branch applies (JSON values and undefined).
_PASSIVE = frozenset({str, int, float, bool, type(None), type(UNDEFINED), dict, list})


def _date_branch_throws(kind: str, value: str) -> bool:
    """Whether the unmapper's datetime/dateonly branch throws a JSError on `value` (it does on the ISO text a
    first pass produced: base 62 has no `-`)."""
    if "-" in value[1:]:
        return True  # base62.decode gives NaN (a `-` past the sign), and no Date has a NaN time
    n = base62.decode(value)
    try:
        to_iso_string(n * 86_400_000 if kind == "dateonly" and is_number(n) else n)
    except JSError:
        return True
    return False


def _run_step(obj: dict[str, Any], attribute: str, action: Action, params: dict[str, Any], separator: str) -> None:
    """One hook step of _apply_hooks: `_set(obj, attribute, action(_get(obj, attribute)))` unless undefined."""
    if attribute in obj:  # what _get and _set do first
        value = obj[attribute]
        if value is not UNDEFINED:
            obj[attribute] = action(value, params, separator)
        return
    value = _get(obj, attribute)
    if value is not UNDEFINED:
        out = action(value, params, separator)
        if out is not value:  # setting the value _get just found changes nothing
            _set(obj, attribute, out)


def _remember(cache: dict[str, Any], key: str, plan: Any) -> None:
    if len(cache) < _PLAN_CACHE_LIMIT:
        cache[key] = plan


def _map_value(plan: MapPlan, value: Any) -> Any:
    """The mapper's branch for one flattened value."""
    kind = plan.kind
    if kind is None:
        if plan.number and is_number(value):
            return base62.encode(value)
        if isinstance(value, str):
            return "{}" if value == "[object Object]" else value
        if isinstance(value, list | dict):
            return json_stringify(value)
        return value
    if kind == "uuid":
        if isinstance(value, str) and value != "":
            hexed = value.replace("-", "")
            if len(hexed) == 32:
                return "".join(
                    base62.encode(int(hexed[i : i + 8], 16) if _is_hex(hexed[i : i + 8]) else math.nan)
                    .rjust(6, "0") for i in (0, 8, 16, 24))
        return value
    if kind == "datetime":
        if isinstance(value, str) and value != "":
            ms = date_parse_ms(value)
            return base62.encode(ms) if math.isfinite(ms) else value
        return value
    if kind == "dateonly":
        if isinstance(value, str) and value != "":
            ms = date_parse_ms(value if "T" in value else value + "T00:00:00.000Z")
            return base62.encode(math.floor(ms / 86_400_000)) if math.isfinite(ms) else value
        return value
    return pack(kind, value)


def _unmap_value(plan: UnmapPlan, value: Any, separator: str) -> Any:
    """The unmapper's branches for one stored value, then the attribute's afterUnmap hooks."""
    parsed = value
    kind = plan.kind
    if kind is None:
        if plan.number:
            if isinstance(parsed, str) and parsed != "":
                parsed = base62.decode(parsed)
            elif not is_number(parsed):
                parsed = UNDEFINED
        elif isinstance(value, str):
            if value == "[object Object]":
                parsed = {}
            elif value.startswith(("{", "[")):
                parsed = _parse_or_keep(value)
    elif kind == "uuid":
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
    else:
        parsed = unpack(kind, parsed)
    if plan.array:
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
            parsed = run_action("toArray", parsed, {}, separator)
    for action, params in plan.after:
        parsed = action(parsed, params, separator)
    return parsed


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
