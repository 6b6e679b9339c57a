"""The scalar types `Schema.mapper`/`unmapper` of s3db.js 21.6.2 pack into base 62 inline (not through hooks):
timeonly, mac, cidr, semver, phone, color, duration, ean.

`pack(kind, value)` is the mapper branch, `unpack(kind, value)` the unmapper branch, step for step: what
s3db.js leaves alone (a value that does not match the pattern) stays as given, and arithmetic on odd stored
text follows JavaScript (NaN printed as `NaN`, `%` keeping the dividend's sign).
"""

from __future__ import annotations

import math
import re
from typing import Any

from s3db_backup.format.codec import base62
from s3db_backup.format.codec.base62 import js_round
from s3db_backup.format.codec.concerns import (
    js_floor,
    js_mod,
    pad_start,
    parse_int_radix,
    to_hex,
    to_int32,
    to_uint32,
)
from s3db_backup.format.codec.js import is_nan, is_number, js_string, parse_float, to_number

KINDS = ("timeonly", "mac", "cidr", "semver", "phone", "color", "duration", "ean")

_TIME = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?\Z")
_SEMVER = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\Z")
_ISO_DURATION = re.compile(r"P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?\Z")
_EAN = re.compile(r"[0-9]{8,14}\Z")
_EAN_PREFIX = {8: "0", 12: "2", 13: "1", 14: "3"}
_EAN_LENGTH = {"0": 8, "1": 13, "2": 12, "3": 14}


def _n(x: Any) -> str:
    """`${x}` / `String(x)` of a number."""
    return js_string(x)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _duration_ms(value: str) -> float | int:
    """The mapper's duration parse: ms, or -1 when nothing matched."""
    iso = _ISO_DURATION.match(value)
    if iso and value not in ("P", "PT"):
        d, h, m = (float(int(g or "0")) for g in iso.groups()[:3])  # parseInt: doubles
        return js_round((d * 86400 + h * 3600 + m * 60 + parse_float(iso.group(4) or "0")) * 1000)
    total: float | int = 0
    matched = False
    s = value.lower()
    ms = re.search(r"([0-9]+)ms", s)
    if ms:
        total += float(int(ms.group(1)))
        matched = True
    clean = re.sub(r"[0-9]+ms", "", s)
    for unit, factor in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        found = re.search(r"([0-9]+(?:\.[0-9]+)?)" + unit, clean)
        if found:
            total += parse_float(found.group(1)) * factor
            matched = True
    return js_round(total) if matched else -1


def pack(kind: str, value: Any) -> Any:
    """The stored form of `value` (after beforeMap hooks) for an attribute of this kind."""
    if kind == "timeonly":
        if isinstance(value, str) and value != "":
            t = _TIME.match(value)
            if not t:
                return value
            h, mn = int(t.group(1)), int(t.group(2))
            sc = int(t.group(3)) if t.group(3) else 0
            ms = int(t.group(4).ljust(3, "0")) if t.group(4) else 0
            return base62.encode((h * 3600 + mn * 60 + sc) * 1000 + ms)
        return value
    if kind == "mac":
        if isinstance(value, str) and value != "":
            hexed = value.replace(":", "")
            return pad_start(base62.encode(parse_int_radix(hexed, 16)), 9) if _utf16_len(hexed) == 12 else value
        return value
    if kind == "cidr":
        if isinstance(value, str) and "/" in value:
            ip_text, prefix_text = value.split("/")[:2]
            parts = [to_number(p) for p in ip_text.split(".")] + [math.nan] * 4
            ip = to_uint32((to_int32(parts[0]) << 24) | (to_int32(parts[1]) << 16) | (to_int32(parts[2]) << 8)
                           | to_int32(parts[3]))
            return pad_start(base62.encode(ip), 6) + base62.encode(parse_int_radix(prefix_text, 10))
        return value
    if kind == "semver":
        if isinstance(value, str) and value != "":
            m = _SEMVER.match(value)
            if not m:
                return value
            major, minor, patch = (float(int(g)) for g in m.groups())
            return base62.encode(major * 1_000_000 + minor * 1000 + patch)
        return value
    if kind == "phone":
        if isinstance(value, str) and value.startswith("+"):
            return base62.encode(parse_int_radix(value[1:], 10))
        return value
    if kind == "color":
        if isinstance(value, str) and value.startswith("#"):
            hexed = value[1:]
            return pad_start(base62.encode(parse_int_radix(hexed, 16)), 5) if _utf16_len(hexed) == 6 else value
        return value
    if kind == "duration":
        if is_number(value) and math.isfinite(value) and value >= 0:
            return base62.encode(js_round(value))
        if isinstance(value, str) and value != "":
            ms = _duration_ms(value)
            return base62.encode(ms) if ms >= 0 else value
        return value
    if kind == "ean":
        if isinstance(value, str) and _EAN.match(value):
            prefix = _EAN_PREFIX.get(len(value))
            return prefix + base62.encode(parse_int_radix(value, 10)) if prefix is not None else value
        return value
    raise ValueError(f"not a packed kind: {kind}")


def _duration_text(ms: float | int) -> str:
    days = js_floor(ms / 86400000) if not is_nan(ms) else ms
    hours = js_floor(js_mod(ms, 86400000) / 3600000)
    minutes = js_floor(js_mod(ms, 3600000) / 60000)
    seconds = js_floor(js_mod(ms, 60000) / 1000)
    millis = js_mod(ms, 1000)

    def truthy(x: float | int) -> bool:
        return not is_nan(x) and x != 0

    result = "P"
    if truthy(days):
        result += _n(days) + "D"
    if truthy(hours) or truthy(minutes) or truthy(seconds) or truthy(millis):
        result += "T"
        if truthy(hours):
            result += _n(hours) + "H"
        if truthy(minutes):
            result += _n(minutes) + "M"
        if truthy(seconds) and truthy(millis):
            result += _n(seconds) + "." + pad_start(_n(millis), 3) + "S"
        elif truthy(seconds):
            result += _n(seconds) + "S"
        elif truthy(millis):
            result += "0." + pad_start(_n(millis), 3) + "S"
    return "PT0S" if result == "P" else result


def unpack(kind: str, value: Any) -> Any:
    """What get() makes of a stored value of this kind (when the attribute has no afterUnmap hook)."""
    if not isinstance(value, str):
        return value
    length = _utf16_len(value)
    if kind == "timeonly":
        if value == "":
            return value
        total = base62.decode(value)
        ms = js_mod(total, 1000)
        secs = js_floor(total / 1000) if not is_nan(total) else total
        s = js_mod(secs, 60)
        mins = js_floor(secs / 60) if not is_nan(secs) else secs
        m = js_mod(mins, 60)
        h = js_floor(mins / 60) if not is_nan(mins) else mins
        return f"{pad_start(_n(h), 2)}:{pad_start(_n(m), 2)}:{pad_start(_n(s), 2)}.{pad_start(_n(ms), 3)}"
    if kind == "mac":
        if length == 9 and ":" not in value:
            hexed = pad_start(to_hex(base62.decode(value)), 12)
            return ":".join(re.findall(r"[^\n\r\u2028\u2029]{2}", hexed))
        return value
    if kind == "cidr":
        if length == 7 and "." not in value:
            ip, prefix = base62.decode(value[:6]), base62.decode(value[6:])
            u = to_uint32(ip)
            a, b, c, d = (u >> 24) & 0xFF, (u >> 16) & 0xFF, (u >> 8) & 0xFF, to_int32(ip) & 0xFF
            return f"{a}.{b}.{c}.{d}/{_n(prefix)}"
        return value
    if kind == "semver":
        if value != "" and "." not in value:
            packed = base62.decode(value)
            major = js_floor(packed / 1_000_000) if not is_nan(packed) else packed
            minor = js_floor(js_mod(packed, 1_000_000) / 1000)
            patch = js_mod(packed, 1000)
            return f"{_n(major)}.{_n(minor)}.{_n(patch)}"
        return value
    if kind == "phone":
        if value != "" and not value.startswith("+"):
            return "+" + _n(base62.decode(value))
        return value
    if kind == "color":
        if length == 5 and not value.startswith("#"):
            return "#" + pad_start(to_hex(base62.decode(value)), 6)
        return value
    if kind == "duration":
        if value != "" and not value.startswith("P"):
            return _duration_text(base62.decode(value))
        return value
    if kind == "ean":
        if value != "" and value[0] in "0123" and not _EAN.match(value):
            return pad_start(_n(base62.decode(value[1:])), _EAN_LENGTH[value[0]])
        return value
    raise ValueError(f"not a packed kind: {kind}")


