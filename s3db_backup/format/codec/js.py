"""JavaScript value semantics the s3db.js format depends on, in plain Python.

s3db.js decides how a value is stored with JavaScript rules: property order of objects (integer-like keys
first, ascending), `String(x)`, `Number(x)`, `JSON.parse`/`JSON.stringify`, UTF-16 string lengths,
`encodeURIComponent`. Values here are JSON-like Python values plus `UNDEFINED` (JavaScript's `undefined`,
distinct from `None` = `null`). Numbers are `int` when integral and below 2**53, `float` otherwise.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote


class _Undefined:
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()

MAX_SAFE = 2**53


class JSError(ValueError):
    """What JavaScript would have thrown (RangeError, SyntaxError, URIError)."""


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def normalize_number(value: int | float) -> int | float:
    """A JavaScript number as Python: int when integral and exactly representable, else float."""
    if isinstance(value, int):
        if abs(value) < MAX_SAFE:
            return value
        value = float(value)
    if math.isfinite(value) and value == int(value) and abs(value) < MAX_SAFE:
        return int(value)
    return value


@lru_cache(maxsize=8192)
def _is_index_key(key: str) -> bool:
    """Whether `key` is an array index to JavaScript. Cached: the same attribute and metadata keys come back
    for every record, and this is asked for every key of every object the codec walks."""
    return key == "0" or (key[:1] in "123456789" and key.isdigit() and key.isascii() and int(key) < 2**32 - 1)


def _ordered(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """`keys` in JavaScript order, or None when they already are."""
    index: list[str] = []
    other: list[str] = []
    for key in keys:
        (index if _is_index_key(key) else other).append(key)
    if not index or (index == list(keys[: len(index)]) and index == sorted(index, key=int)):
        return None
    index.sort(key=int)  # distinct canonical integers: a total order, as sorted() gave
    return tuple(index + other)


#: Objects with at most this many keys have their order cached (by their keys in insertion order): records of
#: a resource come back with the same few keys, and a bigger object would cost the cache more than it saves.
_ORDER_CACHE_KEYS = 64
_ordered_cached = lru_cache(maxsize=4096)(_ordered)


def _js_order(obj: dict[str, Any]) -> tuple[str, ...] | None:
    if len(obj) <= _ORDER_CACHE_KEYS:
        return _ordered_cached(tuple(obj))
    return _ordered(tuple(obj))


def js_keys(obj: dict[str, Any]) -> list[str]:
    """`Object.keys(obj)`: integer-like keys ascending, then the others in insertion order."""
    order = _js_order(obj)
    return list(obj) if order is None else list(order)


def js_items(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    order = _js_order(obj)
    return list(obj.items()) if order is None else [(k, obj[k]) for k in order]


def number_to_string(value: int | float) -> str:
    """`String(n)` for a JavaScript number (ECMAScript Number::toString)."""
    if isinstance(value, int) and abs(value) < MAX_SAFE:
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    shortest = repr(abs(value))
    if "e" not in shortest:
        # Python writes 1e-4 <= x < 1e16 positionally, with the same shortest digits, inside the range where
        # JavaScript does too: the texts agree but for Python's ".0" on integral values.
        return sign + (shortest[:-2] if shortest.endswith(".0") else shortest)
    digits_t = Decimal(shortest).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_t.digits)
    k = len(digits)
    n = digits_t.exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


_JS_WS = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_INT_PREFIX = re.compile(r"[+-]?\d+")


def to_number(text: str) -> float | int:
    """`Number(string)` (NaN as float('nan'))."""
    s = text.strip(_JS_WS)
    if s == "":
        return 0
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    low = s[:2].lower()
    if low in ("0x", "0o", "0b") and len(s) > 2:
        base = {"0x": 16, "0o": 8, "0b": 2}[low]
        try:
            return normalize_number(int(s[2:], base)) if s[2:].isalnum() and s[2:].isascii() else math.nan
        except ValueError:
            return math.nan
    if not s.isascii() or not _DECIMAL.match(s):
        return math.nan
    return normalize_number(float(s))


def parse_float(text: str) -> float | int:
    """`parseFloat(string)`."""
    m = _FLOAT_PREFIX.match(text.lstrip(_JS_WS))
    if not m:
        return math.nan
    token = m.group(0)
    if token.lstrip("+-") == "Infinity":
        return -math.inf if token.startswith("-") else math.inf
    return normalize_number(float(token))


def parse_int(text: str) -> float | int:
    """`parseInt(string)` (radix 10 for decimal text; s3db.js only calls it on decimal text)."""
    m = _INT_PREFIX.match(text.lstrip(_JS_WS))
    if not m:
        return math.nan
    return normalize_number(int(m.group(0)))


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def js_string(value: Any) -> str:
    """`String(value)`."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _reject_constant(name: str) -> Any:
    raise JSError(f"Unexpected token {name} in JSON")


def _finish(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finish(v) for v in value]
    return value


def json_parse(text: str) -> Any:
    """`JSON.parse(text)`; JSError where JavaScript throws SyntaxError."""
    try:
        return json.loads(
            text,
            parse_int=lambda s: normalize_number(float(s)) if len(s) > 15 else int(s),
            parse_float=lambda s: normalize_number(float(s)),
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise JSError(f"JSON.parse: {exc}") from exc


_SURROGATE = re.compile("[\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate (0xD800-0xDFFF), scanned in C rather than character by character."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _quote(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    if _has_surrogate(text):  # well-formed JSON.stringify escapes lone surrogates
        out = "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in out)
    return out


def json_stringify(value: Any) -> str | Any:
    """`JSON.stringify(value)` (UNDEFINED for undefined; object keys in JavaScript order)."""
    if value is UNDEFINED:
        return UNDEFINED
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return number_to_string(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        parts = []
        for item in value:
            out = json_stringify(item)
            parts.append("null" if out is UNDEFINED else out)
        return "[" + ",".join(parts) + "]"
    if isinstance(value, dict):
        parts = []
        for key, item in js_items(value):
            out = json_stringify(item)
            if out is not UNDEFINED:
                parts.append(_quote(key) + ":" + out)
        return "{" + ",".join(parts) + "}"
    raise TypeError(f"cannot stringify {type(value).__name__}")


def utf16_units(text: str) -> list[int]:
    """The string as JavaScript sees it: UTF-16 code units."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text) + len(_ASTRAL.findall(text))  # characters beyond the BMP take two units


def utf16_slice(text: str, length: int) -> str:
    """`text.substring(0, length)`: may cut a surrogate pair (the half is kept as a lone surrogate)."""
    data = text.encode("utf-16-le", "surrogatepass")[: 2 * length]
    return data.decode("utf-16-le", "surrogatepass")


def utf8_bytes(text: str) -> bytes:
    """`Buffer.from(text, 'utf8')` / TextEncoder: lone surrogates become U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode("utf-8")


def encode_uri_component(text: str) -> str:
    """`encodeURIComponent(text)`; JSError (URIError) on a lone surrogate."""
    if _has_surrogate(text):
        raise JSError("URIError: URI malformed")
    return quote(text, safe="-_.!~*'()")


def decode_uri_component(text: str) -> str:
    """`decodeURIComponent(text)`; JSError (URIError) on malformed escapes."""
    i = 0
    while True:
        i = text.find("%", i)
        if i < 0:
            break
        if not re.fullmatch(r"%[0-9A-Fa-f]{2}", text[i : i + 3]):
            raise JSError("URIError: URI malformed")
        i += 3
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise JSError("URIError: URI malformed") from exc


def base64_decode_lenient(text: str) -> bytes:
    """`Buffer.from(text, 'base64')`: skips characters outside the alphabet, stops at '=' padding."""
    import base64

    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
    chars = []
    for c in text:
        if c == "=":
            break
        if c in alphabet:
            chars.append("+" if c == "-" else "/" if c == "_" else c)
    data = "".join(chars)
    if len(data) % 4 == 1:
        data = data[:-1]
    data += "=" * (-len(data) % 4)
    return base64.b64decode(data)


def utf8_decode_lenient(data: bytes) -> str:
    """`buffer.toString('utf8')`: invalid sequences become U+FFFD."""
    return data.decode("utf-8", "replace")


#: Value types deep_copy returns as they are without a call (immutable, never dict or list subclasses).
_ATOMS = frozenset({str, int, float, bool, type(None), _Undefined, bytes})


def deep_copy(value: Any) -> Any:
    """A copy of the dicts and lists in `value` (other values shared). Members that are plain scalars are
    taken without a recursive call: records are mostly flat, and this runs several times per record."""
    if isinstance(value, dict):
        return {k: v if type(v) in _ATOMS else deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _ATOMS else deep_copy(v) for v in value]
    return value


#: Value types strip_undefined keeps as they are (floats are not among them: non-finite ones become null).
_KEPT = frozenset({str, int, bool, type(None), bytes})


def strip_undefined(value: Any) -> Any:
    """The value as it survives JSON: undefined members dropped, undefined array items become null."""
    if isinstance(value, dict):
        return {k: v if type(v) in _KEPT else strip_undefined(v) for k, v in js_items(value) if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if v is UNDEFINED else v if type(v) in _KEPT else strip_undefined(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
