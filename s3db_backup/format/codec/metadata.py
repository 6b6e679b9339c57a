"""The metadata value layer of s3db.js 21.6.2 (`concerns/metadata-encoding.js`, `dictionary-encoding.js`,
`calculator.js` and the key rule of `clients/s3-client.class.js`).

Every user-metadata value s3db.js writes goes through `metadata_encode` (after the schema mapped it to a
string) and every value it reads through `metadata_decode`: printable ASCII as is, dictionary codes
(`d:x` = cancelled, `d:@h...` = https://...), `u:` + encodeURIComponent for text with a few non-ASCII
characters, `b:` + base64 of UTF-8 for mostly non-ASCII text. Keys are lower-cased and every character
outside `[a-zA-Z0-9_-]` becomes `_` (`$overflow` is stored as `_overflow`).
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Any

from s3db_backup.format.codec.concerns import decompress_text
from s3db_backup.format.codec.js import (
    UNDEFINED,
    JSError,
    base64_decode_lenient,
    decode_uri_component,
    encode_uri_component,
    is_number,
    js_items,
    js_string,
    json_stringify,
    number_to_string,
    utf8_bytes,
    utf8_decode_lenient,
    utf16_units,
)

#: S3's limit on user metadata is 2 KB; s3db.js budgets 2,047 bytes (keys + values, UTF-8).
S3_METADATA_LIMIT_BYTES = 2047

CONTENT_TYPE_DICT = {
    "application/json": "j", "application/xml": "X", "application/ld+json": "J", "text/html": "H",
    "text/plain": "T", "text/css": "C", "text/javascript": "V", "text/csv": "v", "image/png": "P",
    "image/jpeg": "I", "image/gif": "G", "image/svg+xml": "S", "image/webp": "W", "application/pdf": "Q",
    "application/zip": "z", "application/octet-stream": "o", "application/x-www-form-urlencoded": "u",
    "multipart/form-data": "F", "font/woff": "w", "font/woff2": "f",
}  # fmt: skip
URL_PREFIX_DICT = {
    "/api/v1/": "@1", "/api/v2/": "@2", "/api/v3/": "@3", "/api/": "@a", "https://api.example.com/": "@A",
    "https://api.": "@H", "https://www.": "@W", "https://": "@h", "http://": "@t",
    "https://s3.amazonaws.com/": "@s", "https://s3-": "@S", "http://localhost:": "@L", "http://localhost": "@l",
    "/v1/": "@v", "/users/": "@u", "/products/": "@p",
}  # fmt: skip
STATUS_MESSAGE_DICT = {
    "processing": "p", "completed": "c", "succeeded": "s", "failed": "f", "cancelled": "x", "timeout": "t",
    "retrying": "r", "authorized": "a", "captured": "K", "refunded": "R", "declined": "d", "shipped": "h",
    "delivered": "D", "returned": "e", "in_transit": "i", "initialized": "n", "terminated": "m",
}  # fmt: skip
_COMBINED = {**CONTENT_TYPE_DICT, **STATUS_MESSAGE_DICT}
_COMBINED_REVERSE = {**{v: k for k, v in CONTENT_TYPE_DICT.items()}, **{v: k for k, v in STATUS_MESSAGE_DICT.items()}}
_URL_REVERSE = {v: k for k, v in URL_PREFIX_DICT.items()}
# Array.prototype.sort is stable: equal lengths keep the dictionary's order.
_PREFIXES_LONGEST_FIRST = sorted(URL_PREFIX_DICT.items(), key=lambda kv: -len(kv[0]))
#: (prefix, code, UTF-16 units the code saves): prefix and code are ASCII and the rest of the value is kept,
#: so the saving of `d:<code><rest>` over `<prefix><rest>` does not depend on the rest.
_PREFIX_SAVINGS = tuple((prefix, code, len(prefix) - len("d:" + code)) for prefix, code in _PREFIXES_LONGEST_FIRST)
#: First characters of the URL prefixes: most values start with none of them and skip the prefix scan.
_PREFIX_HEADS = frozenset(prefix[0] for prefix in URL_PREFIX_DICT)
_RESERVED_PREFIXES = ("d:", "u:", "b:", "z:", "z85:")
_KEY_UNSAFE = re.compile(r"[^a-zA-Z0-9\-_]")


class UnsupportedEncoding(ValueError):
    """A value in an encoding this codec does not implement (none left in 21.6.2; kept for callers)."""


@lru_cache(maxsize=4096)
def header_key(key: str) -> str:
    """The metadata key s3db.js sends for a mapped key (`$overflow` -> `_overflow`, `_pluginMap` -> `_pluginmap`)."""
    return _KEY_UNSAFE.sub("_", key).lower()


def dictionary_encode(value: str) -> str | None:
    """`dictionaryEncode`: the `d:` form when it is shorter, else None."""
    if not value:
        return None
    if value in _COMBINED:
        code = _COMBINED[value]
        return "d:" + code if len(value) - (2 + len(code)) > 0 else None
    if value[0] not in _PREFIX_HEADS:
        return None
    for prefix, code, saving in _PREFIX_SAVINGS:
        if value.startswith(prefix):
            # savings compare UTF-16 lengths
            return "d:" + code + value[len(prefix) :] if saving > 0 else None
    return None


def dictionary_decode(encoded: str) -> str | None:
    if not encoded.startswith("d:"):
        return None
    payload = encoded[2:]
    if not payload:
        return None
    if len(payload) == 1 and payload in _COMBINED_REVERSE:
        return _COMBINED_REVERSE[payload]
    if payload.startswith("@"):
        prefix = _URL_REVERSE.get(payload[:2])
        if prefix is not None:
            return prefix + payload[2:]
    return None


def _analyze(text: str) -> str:
    """`analyzeString(...).type`: none | ascii | url | base64 (ratios over UTF-16 code units)."""
    if not text:
        return "none"
    if text.isascii() and text.isprintable():  # for ASCII text, printable is exactly 0x20-0x7e
        return "ascii"
    units = utf16_units(text)
    latin1 = multibyte = 0
    for code in units:
        if 0x20 <= code <= 0x7E:
            continue
        if code < 0x20 or code == 0x7F:
            multibyte += 1
        elif 0x80 <= code <= 0xFF:
            latin1 += 1
        else:
            multibyte += 1
    if multibyte:
        return "base64" if multibyte / len(units) > 0.3 else "url"
    if latin1:
        return "base64" if latin1 / len(units) > 0.5 else "url"
    return "ascii"


def metadata_encode(value: Any) -> str:
    """`metadataEncode(value).encoded`: the header-safe text s3db.js stores for a mapped value."""
    if type(value) is str:
        text = value  # js_string's answer for text, without its checks
    elif value is None:
        return "null"
    elif value is UNDEFINED:
        return "undefined"
    else:
        text = js_string(value)
    if text.startswith(_RESERVED_PREFIXES):
        return "b:" + base64.b64encode(utf8_bytes(text)).decode("ascii")
    dictionary = dictionary_encode(text)
    if dictionary is not None:
        return dictionary
    # COMMON_VALUES map each listed word to itself: no change, whatever the analysis would say.
    kind = _analyze(text)
    if kind in ("none", "ascii"):
        return text
    if kind == "url":
        return "u:" + encode_uri_component(text)
    return "b:" + base64.b64encode(utf8_bytes(text)).decode("ascii")


def metadata_decode(value: Any) -> Any:
    """`metadataDecode(value)`: what s3db.js's S3 client hands the schema for a stored value."""
    if type(value) is str and value[1:2] != ":" and not value.startswith("z85:"):
        # every encoded form has ':' second (d:, z:, u:, b:) but z85:, so this is plain text (or null/undefined)
        return None if value == "null" else UNDEFINED if value == "undefined" else value
    if value == "null":
        return None
    if value == "undefined":
        return UNDEFINED
    if not isinstance(value, str):
        return value
    if value.startswith("d:"):
        decoded = dictionary_decode(value)
        if decoded is not None:
            return decoded
    if value.startswith(("z85:", "z:")):
        # s3db.js never writes these raw (metadata_encode forces `b:`), but its reader inflates them.
        if len(value) <= (4 if value.startswith("z85:") else 2):
            return value
        try:
            return decompress_text(value)
        except JSError:
            return value
    if len(value) >= 2 and value[1] == ":":
        if value[0] == "u":
            if len(value) == 2:
                return value
            try:
                return decode_uri_component(value[2:])
            except JSError:
                return value
        if value[0] == "b":
            if len(value) == 2:
                return value
            return utf8_decode_lenient(base64_decode_lenient(value[2:]))
    return value


# --- sizes (calculator.js) -------------------------------------------------------------------------------


def utf8_size(text: Any) -> int:
    """`calculateUTF8Bytes`: UTF-8 bytes, a lone surrogate counting 3."""
    if not isinstance(text, str):
        text = js_string(text)
    if text.isascii():
        return len(text)  # one byte per character
    return len(utf8_bytes(text))


def transform_value(value: Any) -> str:
    """`transformValue`: how calculator.js measures a mapped value (not how it is stored)."""
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if is_number(value):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[]" if not value else "|".join(js_string(v) for v in value)
    if isinstance(value, dict):
        return json_stringify(value)
    return js_string(value)


def attribute_sizes(mapped: dict[str, Any]) -> dict[str, int]:
    return {key: utf8_size(transform_value(value)) for key, value in js_items(mapped)}


def total_size(mapped: dict[str, Any]) -> int:
    # the sum of attribute_sizes(mapped) and the keys' sizes; a sum needs no JavaScript key order
    return sum(utf8_size(transform_value(value)) for value in mapped.values()) + sum(utf8_size(k) for k in mapped)


def effective_limit(version: str, timestamps: bool, record_id: Any, s3_limit: int = S3_METADATA_LIMIT_BYTES) -> int:
    """`calculateEffectiveLimit`: the limit minus a dummy `_v`, timestamps and `id` s3db.js reserves."""
    system: dict[str, Any] = {"_v": js_string(version)}
    if timestamps:
        system["createdAt"] = "2024-01-01T00:00:00.000Z"
        system["updatedAt"] = "2024-01-01T00:00:00.000Z"
    if record_id:
        system["id"] = record_id
    return s3_limit - total_size(system)
