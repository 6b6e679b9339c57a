"""Attribute types of s3db.js 21.6.2: which hooks a definition gets (`Schema.generateAutoHooks`) and what each
hook does to a value (`SchemaActions`), for the types this codec implements.

A hook is `(action, params)`; `beforeMap` hooks run before a record is flattened and mapped to short keys,
`afterUnmap` hooks after stored values are mapped back. Types whose hooks are not implemented here (ip4/ip6,
buffer, bits, geo, compressed text) are reported by `unsupported_hooks` so the codec can refuse them rather
than guess.
"""

from __future__ import annotations

import base64
import math
import re
import zlib
from collections.abc import Callable
from typing import Any

from s3db_backup.format.codec import base62, concerns
from s3db_backup.format.codec.base62 import js_round
from s3db_backup.format.codec.js import (
    UNDEFINED,
    JSError,
    base64_decode_lenient,
    is_nan,
    is_number,
    js_items,
    js_string,
    json_parse,
    json_stringify,
    normalize_number,
    to_number,
)

Hook = tuple[str, dict[str, Any]]

#: Actions this module implements; any other auto-generated hook makes the type unsupported.
SUPPORTED_ACTIONS = {
    "fromArray", "toArray", "toJSON", "fromJSON", "fromBool", "toBool", "toBase62", "fromBase62",
    "toBase62Decimal", "fromBase62Decimal", "fromArrayOfNumbers", "toArrayOfNumbers", "fromArrayOfDecimals",
    "toArrayOfDecimals", "fromArrayOfEmbeddings", "toArrayOfEmbeddings", "encrypt", "decrypt", "encodeMoney",
    "decodeMoney", "encodeDecimalFixed", "decodeDecimalFixed", "encodeIPv4", "decodeIPv4", "encodeIPv6",
    "decodeIPv6", "encodeBuffer", "decodeBuffer", "encodeBits", "decodeBits", "encodeGeoLatitude",
    "decodeGeoLatitude", "encodeGeoLongitude", "decodeGeoLongitude", "encodeGeoPointPair", "decodeGeoPointPair",
    "compressText", "decompressText",
}  # fmt: skip


class UnsupportedType(ValueError):
    """An attribute type whose storage this codec does not implement."""


# --- hook generation -----------------------------------------------------------------------------------


def flatten_definitions(attributes: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`flatten(attributes, {safe: true})` over definitions: nested dicts become dotted names."""
    out: dict[str, Any] = {}
    for key, value in js_items(attributes):
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(flatten_definitions(value, path))
        else:
            out[path] = value
    return out


def _add(hooks: dict[str, dict[str, list[Hook]]], name: str, before: str, after: str, params: dict | None = None):
    params = params or {}
    hooks["beforeMap"].setdefault(name, []).append((before, params))
    hooks["afterUnmap"].setdefault(name, []).append((after, params))


def _number_array_hooks(hooks, name: str, is_integer: bool, length: int | None) -> None:
    if is_integer:
        _add(hooks, name, "fromArrayOfNumbers", "toArrayOfNumbers")
    elif length is not None and length >= 256:
        _add(hooks, name, "fromArrayOfEmbeddings", "toArrayOfEmbeddings")
    else:
        _add(hooks, name, "fromArrayOfDecimals", "toArrayOfDecimals")


def _from_original(hooks, attributes: dict[str, Any], prefix: str = "") -> None:
    """`_generateHooksFromOriginalAttributes`: object-form `{type: 'array', items: ...}` definitions."""
    for key, value in js_items(attributes):
        if key.startswith("$$"):
            continue
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value.get("type"):
            if value.get("type") == "array" and value.get("items"):
                items = value["items"]
                length = value.get("length") if is_number(value.get("length")) else None
                if items == "string" or (isinstance(items, str) and "string" in items):
                    _add(hooks, name, "fromArray", "toArray")
                elif items == "number" or (isinstance(items, str) and "number" in items):
                    _number_array_hooks(hooks, name, isinstance(items, str) and "integer" in items, length)
        elif isinstance(value, dict):
            _from_original(hooks, value, name)


def generate_hooks(attributes: dict[str, Any]) -> dict[str, dict[str, list[Hook]]]:
    """The `beforeMap`/`afterUnmap` hooks s3db.js generates for a version's attributes."""
    hooks: dict[str, dict[str, list[Hook]]] = {"beforeMap": {}, "afterUnmap": {}}
    _from_original(hooks, attributes)
    for name, definition in flatten_definitions(attributes).items():
        if "$$" in name:
            continue
        if name in hooks["beforeMap"] or name in hooks["afterUnmap"]:
            continue
        d = definition if isinstance(definition, str) else ""
        dtype = definition.get("type") if isinstance(definition, dict) else None
        if "embedding" in d or dtype == "embedding":
            _add(hooks, name, "fromArrayOfEmbeddings", "toArrayOfEmbeddings")
            continue
        if "array" in d or dtype == "array":
            items = None
            if isinstance(definition, dict) and definition.get("items"):
                items = definition["items"]
            elif "items:string" in d:
                items = "string"
            elif "items:number" in d:
                items = "number"
            if items == "string" or (isinstance(items, str) and "string" in items):
                _add(hooks, name, "fromArray", "toArray")
            elif items == "number" or (isinstance(items, str) and "number" in items):
                is_integer = ("integer:true" in d or "|integer:" in d or "|integer" in d
                              or (isinstance(items, str) and "integer" in items))
                length = None
                if isinstance(definition, dict) and is_number(definition.get("length")):
                    length = definition["length"]
                elif "length:" in d:
                    m = re.search(r"length:(\d+)", d)
                    if m:
                        length = int(m.group(1))
                _number_array_hooks(hooks, name, is_integer, length)
            continue
        if "secret" in d or dtype == "secret":
            # autoEncrypt/autoDecrypt default to true in s3db.json versions written by 21.6.2.
            _add(hooks, name, "encrypt", "decrypt")
            continue
        if "password" in d or dtype in ("password", "password:bcrypt", "password:argon2id"):
            continue
        if "ip4" in d or dtype == "ip4":
            _add(hooks, name, "encodeIPv4", "decodeIPv4")
            continue
        if "ip6" in d or dtype == "ip6":
            _add(hooks, name, "encodeIPv6", "decodeIPv6")
            continue
        if "buffer" in d or dtype == "buffer":
            _add(hooks, name, "encodeBuffer", "decodeBuffer")
            continue
        if "bits" in d or dtype == "bits":
            m = re.search(r"bits:([0-9]+)", d)
            _add(hooks, name, "encodeBits", "decodeBits", {"bitCount": int(m.group(1)) if m else None})
            continue
        if "money" in d or dtype == "money" or "crypto" in d or dtype == "crypto":
            decimals = 8 if ("crypto" in d or dtype == "crypto") else 2
            m = re.search(r"(?:money|crypto):(\d+)", d, re.IGNORECASE)
            if m:
                decimals = int(m.group(1))
            _add(hooks, name, "encodeMoney", "decodeMoney", {"decimals": decimals})
            continue
        if "decimal" in d or dtype == "decimal":
            m = re.search(r"decimal:(\d+)", d)
            _add(hooks, name, "encodeDecimalFixed", "decodeDecimalFixed", {"precision": int(m.group(1)) if m else 2})
            continue
        if d == "text" or d.startswith("text|") or dtype == "text":
            params = _text_params(d)
            if params is not None:
                hooks["beforeMap"].setdefault(name, []).append(("compressText", params))
                hooks["afterUnmap"].setdefault(name, []).append(("decompressText", {}))
            continue
        geo = None
        if "geo:lat" in d:  # (`dtype === 'geo' && defStr.includes('lat')` cannot hold: defStr is '' for objects)
            geo = ("Latitude", "geo:lat")
        elif "geo:lon" in d:
            geo = ("Longitude", "geo:lon")
        elif "geo:point" in d or dtype == "geo:point":
            geo = ("PointPair", "geo:point")
        if geo is not None:
            m = re.search(geo[1] + ":([0-9]+)", d)
            _add(hooks, name, "encodeGeo" + geo[0], "decodeGeo" + geo[0], {"precision": int(m.group(1)) if m else 6})
            continue
        if "number" in d or dtype == "number":
            if "integer:true" in d or "|integer:" in d or "|integer" in d:
                _add(hooks, name, "toBase62", "fromBase62")
            else:
                _add(hooks, name, "toBase62Decimal", "fromBase62Decimal")
            continue
        if "boolean" in d or "bool" in d or dtype in ("boolean", "bool"):
            _add(hooks, name, "fromBool", "toBool")
            continue
        if "json" in d or dtype == "json":
            _add(hooks, name, "toJSON", "fromJSON")
            continue
        if definition == "object" or "object" in d or dtype == "object":
            _add(hooks, name, "toJSON", "fromJSON")
            continue
    return hooks


def _text_params(d: str) -> dict[str, Any] | None:
    """compressText's params from a `text|...` definition; None when compression is off (`compress:false|0`)."""
    level = None
    m = re.search(r"compress:([A-Za-z0-9_]+)", d)
    if m:
        val = m.group(1)
        if val in ("false", "0"):
            return None
        if val != "true":
            n = re.match(r"[+-]?[0-9]+", val)  # parseInt
            if n:
                if int(n.group(0)) == 0:
                    return None
                level = int(n.group(0))
    params: dict[str, Any] = {}
    if level is not None:
        params["level"] = level
    m = re.search(r"threshold:([0-9]+)", d)
    if m:
        params["threshold"] = int(m.group(1))
    m = re.search(r"encoding:(base64|base85)", d)
    if m:
        params["encoding"] = m.group(1)
    return params


def unsupported_hooks(hooks: dict[str, dict[str, list[Hook]]]) -> dict[str, str]:
    """attribute -> action for hooks this module cannot run."""
    out: dict[str, str] = {}
    for table in hooks.values():
        for name, entries in table.items():
            for action, _ in entries:
                if action not in SUPPORTED_ACTIONS:
                    out[name] = action
    return out


# --- actions -------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    """`[true, 1, 'true', '1', 'yes', 'y'].includes(value)`."""
    if value is True:
        return True
    if is_number(value) and value == 1:
        return True
    return isinstance(value, str) and value in ("true", "1", "yes", "y")


def _js_number_of(value: Any) -> float | int:
    """`Number(value)` for any value."""
    if is_number(value):
        return value
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if value is UNDEFINED:
        return math.nan
    if isinstance(value, str):
        return to_number(value)
    if isinstance(value, list):
        return to_number(js_string(value))
    return math.nan


def split_escaped(text: str, separator: str) -> list[str]:
    """The split loop of toArray/toArrayOfNumbers: `\\x` escapes x, `separator` splits (UTF-16 units)."""
    if "\\" not in text and len(separator) == 1:
        return text.split(separator)  # no escapes: the loop splits at each separator character
    items, current, i = [], [], 0
    units = list(text)  # separators and backslash are BMP: code points split the same way here
    while i < len(units):
        ch = units[i]
        if ch == "\\" and i + 1 < len(units):
            current.append(units[i + 1])
            i += 2
        elif ch == separator:
            items.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    items.append("".join(current))
    return items


def _is_undef_or_null(value: Any) -> bool:
    return value is None or value is UNDEFINED


Action = Callable[[Any, dict[str, Any], str], Any]
#: action name -> its implementation `(value, params, separator)`; run_action dispatches here in one lookup
#: instead of comparing the name with every action in turn (hooks run several times per record).
_ACTIONS: dict[str, Action] = {}


def _action(*names: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        for name in names:
            _ACTIONS[name] = fn
        return fn

    return register


def run_action(action: str, value: Any, params: dict[str, Any], separator: str = "|") -> Any:
    """`SchemaActions[action](value, {separator, ...params})`."""
    fn = _ACTIONS.get(action)
    if fn is None:
        raise UnsupportedType(f"s3db.js action {action} is not implemented by this codec")
    return fn(value, params, separator)


def action_function(action: str) -> Action:
    """The implementation of one action, for callers that resolve their hooks once per schema; for an action
    this module does not implement, a function that raises UnsupportedType when called, as run_action does."""
    fn = _ACTIONS.get(action)
    if fn is not None:
        return fn

    def unsupported(value: Any, params: dict[str, Any], separator: str) -> Any:
        raise UnsupportedType(f"s3db.js action {action} is not implemented by this codec")

    return unsupported


@_action("fromArray")
def _from_array(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not isinstance(value, list):
        return value
    if not value:
        return ""
    parts = []
    for item in value:
        if isinstance(item, str):
            parts.append(item.replace("\\", "\\\\").replace(separator, "\\" + separator))
        else:
            parts.append(js_string(item))
    return separator.join(parts)


@_action("toArray")
def _to_array(value: Any, params: dict[str, Any], separator: str) -> Any:
    if isinstance(value, list) or _is_undef_or_null(value):
        return value
    if value == "":
        return []
    return split_escaped(js_string(value), separator)


@_action("toJSON")
def _to_json(value: Any, params: dict[str, Any], separator: str) -> Any:
    if _is_undef_or_null(value) or isinstance(value, str):
        return value
    out = json_stringify(value)
    return value if out is UNDEFINED else out


@_action("fromJSON")
def _from_json(value: Any, params: dict[str, Any], separator: str) -> Any:
    if _is_undef_or_null(value) or not isinstance(value, str) or value == "":
        return value
    try:
        return json_parse(value)
    except JSError:
        return value


@_action("fromBool")
def _from_bool(value: Any, params: dict[str, Any], separator: str) -> Any:
    return "1" if _truthy(value) else "0"


@_action("toBool")
def _to_bool(value: Any, params: dict[str, Any], separator: str) -> Any:
    return _truthy(value)


def _to_base62_with(enc: Callable[[Any], str]) -> Action:
    def to_base62(value: Any, params: dict[str, Any], separator: str) -> Any:
        if _is_undef_or_null(value) or value == "":
            return value
        if is_number(value):
            return enc(value)
        if isinstance(value, str):
            n = to_number(value)
            return value if is_nan(n) else enc(n)
        return value

    return to_base62


def _from_base62_with(dec: Callable[[str], Any]) -> Action:
    def from_base62(value: Any, params: dict[str, Any], separator: str) -> Any:
        if _is_undef_or_null(value) or value == "":
            return value
        if is_number(value):
            return value
        if isinstance(value, str):
            n = dec(value)
            return UNDEFINED if is_nan(n) else n
        return UNDEFINED

    return from_base62


_ACTIONS["toBase62"] = _to_base62_with(base62.encode)
_ACTIONS["toBase62Decimal"] = _to_base62_with(base62.encode_decimal)
_ACTIONS["fromBase62"] = _from_base62_with(base62.decode)
_ACTIONS["fromBase62Decimal"] = _from_base62_with(base62.decode_decimal)


def _from_array_of_numbers_with(enc: Callable[[Any], str]) -> Action:
    def from_array_of_numbers(value: Any, params: dict[str, Any], separator: str) -> Any:
        if not isinstance(value, list):
            return value
        if not value:
            return ""
        parts = []
        for item in value:
            if is_number(item) and not is_nan(item):
                parts.append(enc(item))
            else:
                n = _js_number_of(item)
                parts.append("" if is_nan(n) else enc(n))
        return separator.join(parts)

    return from_array_of_numbers


def _to_array_of_numbers_with(dec: Callable[[str], Any]) -> Action:
    def to_array_of_numbers(value: Any, params: dict[str, Any], separator: str) -> Any:
        if isinstance(value, list):
            return [v if is_number(v) else (dec(v) if isinstance(v, str) else math.nan) for v in value]
        if _is_undef_or_null(value):
            return value
        if value == "":
            return []
        return [dec(v) if v != "" else math.nan for v in split_escaped(js_string(value), separator)]

    return to_array_of_numbers


_ACTIONS["fromArrayOfNumbers"] = _from_array_of_numbers_with(base62.encode)
_ACTIONS["fromArrayOfDecimals"] = _from_array_of_numbers_with(base62.encode_decimal)
_ACTIONS["toArrayOfNumbers"] = _to_array_of_numbers_with(base62.decode)
_ACTIONS["toArrayOfDecimals"] = _to_array_of_numbers_with(base62.decode_decimal)


@_action("fromArrayOfEmbeddings")
def _from_embeddings(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not isinstance(value, list):
        return value
    return base62.encode_fixed_point_batch(value, params.get("precision", 6))


@_action("toArrayOfEmbeddings")
def _to_embeddings(value: Any, params: dict[str, Any], separator: str) -> Any:
    precision = params.get("precision", 6)
    if isinstance(value, list) or _is_undef_or_null(value):
        return value
    if value in ("", "^[]"):
        return []
    text = js_string(value)
    if text.startswith("^["):
        return base62.decode_fixed_point_batch(text, precision)
    items = split_escaped(text, separator)
    return [base62.decode_fixed_point(v, precision) if v != "" else math.nan for v in items]


@_action("encrypt", "decrypt")
def _secret(value: Any, params: dict[str, Any], separator: str) -> Any:
    # Secrets stay as stored: the ciphertext s3db.js wrote decodes to itself and encodes to itself
    # (s3db.js's encrypt hook keeps a value that already decrypts with the passphrase).
    return value


@_action("encodeMoney")
def _encode_money(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not is_number(value):
        return value
    return "$" + base62.encode(js_round(value * float(10 ** params.get("decimals", 2))))


@_action("decodeMoney")
def _decode_money(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    n = base62.decode(value[1:])
    if is_nan(n):
        return value
    return normalize_number(n / float(10 ** params.get("decimals", 2)))


@_action("encodeDecimalFixed")
def _encode_decimal_fixed(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not is_number(value):
        return value
    return base62.encode_fixed_point(value, params.get("precision", 2))


@_action("decodeDecimalFixed")
def _decode_decimal_fixed(value: Any, params: dict[str, Any], separator: str) -> Any:
    if not isinstance(value, str):
        return value
    return base62.decode_fixed_point(value, params.get("precision", 2))


def _is_buffer(value: Any) -> bool:
    return isinstance(value, bytes | bytearray)


def _encode_point(value: Any, precision: int) -> Any:
    if isinstance(value, list) and len(value) == 2:
        return concerns.encode_geo_point(value[0], value[1], precision)
    if isinstance(value, dict):
        for lat, lon in (("lat", "lon"), ("latitude", "longitude")):
            if value.get(lat, UNDEFINED) is not UNDEFINED and value.get(lon, UNDEFINED) is not UNDEFINED:
                return concerns.encode_geo_point(value[lat], value[lon], precision)
    return value


def _guarded_call(action: str, value: Any, params: dict[str, Any]) -> Any:
    p6 = params.get("precision", 6)
    bits = params.get("bitCount")
    if action == "encodeIPv4":
        return concerns.encode_ipv4(value) if isinstance(value, str) and concerns.is_valid_ipv4(value) else value
    if action == "decodeIPv4":
        return concerns.decode_ipv4(value) if isinstance(value, str) else value
    if action == "encodeIPv6":
        return concerns.encode_ipv6(value) if isinstance(value, str) and concerns.is_valid_ipv6(value) else value
    if action == "decodeIPv6":
        return concerns.decode_ipv6(value) if isinstance(value, str) else value
    if action == "encodeBuffer":
        return base64.b64encode(bytes(value)).decode("ascii") if _is_buffer(value) else value
    if action == "decodeBuffer":
        return base64_decode_lenient(value) if isinstance(value, str) else value
    if action == "encodeBits":
        return concerns.encode_bits(bytes(value), bits) if _is_buffer(value) else value
    if action == "decodeBits":
        return concerns.decode_bits(value, bits) if isinstance(value, str) else value
    if action == "encodeGeoLatitude":
        return concerns.encode_geo_lat(value, p6) if is_number(value) else value
    if action == "decodeGeoLatitude":
        return concerns.decode_geo_lat(value, p6)
    if action == "encodeGeoLongitude":
        return concerns.encode_geo_lon(value, p6) if is_number(value) else value
    if action == "decodeGeoLongitude":
        return concerns.decode_geo_lon(value, p6)
    if action == "encodeGeoPointPair":
        return _encode_point(value, p6)
    if action == "decodeGeoPointPair":
        return concerns.decode_geo_point(value, p6) if isinstance(value, str) else value
    if action == "compressText":
        text = value if isinstance(value, str) else js_string(value)
        try:
            return concerns.compress_text(text, params.get("level"), params.get("threshold"), params.get("encoding"))
        except (ValueError, zlib.error) as exc:  # a level zlib refuses: deflateRaw throws, the hook keeps the value
            raise JSError(str(exc)) from exc
    if action == "decompressText":
        return concerns.decompress_text(value)
    raise UnsupportedType(f"s3db.js action {action} is not implemented by this codec")


#: Actions whose SchemaActions wrapper returns null/undefined as is and keeps the value when the encoder throws.
_GUARDED = {
    "encodeIPv4", "decodeIPv4", "encodeIPv6", "decodeIPv6", "encodeBuffer", "decodeBuffer", "encodeBits",
    "decodeBits", "encodeGeoLatitude", "decodeGeoLatitude", "encodeGeoLongitude", "decodeGeoLongitude",
    "encodeGeoPointPair", "decodeGeoPointPair", "compressText", "decompressText",
}  # fmt: skip


def _guarded(action: str, value: Any, params: dict[str, Any]) -> Any:
    if _is_undef_or_null(value):
        return value
    try:
        return _guarded_call(action, value, params)
    except JSError:
        return value


def _guarded_action(action: str) -> Action:
    def guarded(value: Any, params: dict[str, Any], separator: str) -> Any:
        return _guarded(action, value, params)

    return guarded


for _name in sorted(_GUARDED):
    _ACTIONS[_name] = _guarded_action(_name)
assert set(_ACTIONS) == SUPPORTED_ACTIONS, "every supported action has an implementation"


# --- values actions keep -------------------------------------------------------------------------------


def _keeps_number(value: Any) -> bool:
    return value is None or value is UNDEFINED or is_number(value) or (isinstance(value, str) and value == "")


def _keeps_number_list(value: Any) -> bool:
    return value is None or value is UNDEFINED or (type(value) is list and all(is_number(v) for v in value))


#: afterUnmap action -> which values it returns unchanged (the value itself, or for the number-array decoders
#: an equal list). get()'s second unmapper pass runs these hooks on values the first pass already decoded;
#: where every value is one its hooks keep, that pass can be skipped (schema.VersionSchema.unmaps_to_itself).
#: An action missing here is never assumed to keep anything.
KEEPS: dict[str, Callable[[Any], bool]] = {
    "toBool": lambda value: type(value) is bool,
    "toArray": lambda value: type(value) is list or value is None or value is UNDEFINED,
    "fromBase62": _keeps_number,
    "fromBase62Decimal": _keeps_number,
    "fromJSON": lambda value: not isinstance(value, str) or value == "",
    "decrypt": lambda value: True,
    "toArrayOfNumbers": _keeps_number_list,
    "toArrayOfDecimals": _keeps_number_list,
    "toArrayOfEmbeddings": lambda value: isinstance(value, list) or value is None or value is UNDEFINED,
}


#: afterUnmap actions with f(f(x)) == f(x) for every x: each returns a kind of value it keeps (toBool a bool;
#: toArray a list, null or undefined; the base-62 decoders a number, null, undefined or ""; the array decoders
#: a new list of numbers, equal to the list they are given). The unmapper runs every hook once per value and
#: then again over the record (_apply_hooks); for these the second run cannot change anything. Not fromJSON
#: ('"\\"1\\""' parses to '"1"', which parses again) nor the guarded decoders (decodeIPv4 twice is a known quirk).
IDEMPOTENT = frozenset({
    "toBool", "toArray", "fromBase62", "fromBase62Decimal", "decrypt", "toArrayOfNumbers", "toArrayOfDecimals",
    "toArrayOfEmbeddings",
})
