"""Ports of the s3db.js 21.6.2 value encoders its type hooks call (`concerns/ip.js`, `binary.js`,
`geo-encoding.js`, `text-compression.js`), with JavaScript's quirks.

Each function raises JSError where the JavaScript one throws: the hook that calls it (`SchemaActions.*`) catches
that and keeps the value, so a caller must too. Buffers are Python `bytes`.
"""

from __future__ import annotations

import base64
import math
import re
import zlib
from typing import Any

from s3db_backup.format.codec import base62
from s3db_backup.format.codec.base62 import js_round
from s3db_backup.format.codec.js import (
    JSError,
    base64_decode_lenient,
    is_nan,
    is_number,
    js_string,
    normalize_number,
    utf8_bytes,
    utf8_decode_lenient,
)

# --- JavaScript integer helpers ----------------------------------------------------------------------------


def parse_int_radix(text: str, radix: int) -> float | int:
    """`parseInt(text, radix)` for radix 10 or 16 (leading whitespace, sign, `0x` for 16, longest digit prefix)."""
    s = text.lstrip(" \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                    "\u2028\u2029\u202f\u205f\u3000\ufeff")
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if radix == 16 and s[:2] in ("0x", "0X"):
        s = s[2:]
    digits = "0123456789abcdefABCDEF" if radix == 16 else "0123456789"
    n = 0
    while n < len(s) and s[n] in digits:
        n += 1
    if n == 0:
        return math.nan
    # Beyond 2**53 JavaScript rounds the digits to the nearest double; float(int) does the same.
    return normalize_number(sign * int(s[:n], radix))


def to_int32(x: Any) -> int:
    """`ToInt32` (what `|`, `<<` and `&` apply to their operands)."""
    if not is_number(x) or math.isnan(x) or math.isinf(x):
        return 0
    n = math.trunc(x) % 2**32
    return n - 2**32 if n >= 2**31 else n


def to_uint32(x: Any) -> int:
    return to_int32(x) % 2**32


def js_mod(a: float | int, b: float | int) -> float | int:
    """`a % b`: the sign of the dividend, NaN for NaN or infinite operands."""
    if is_nan(a) or is_nan(b) or math.isinf(a) or b == 0:
        return math.nan
    if math.isinf(b):
        return a
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    return normalize_number(math.fmod(a, b))


def js_floor(x: float | int) -> float | int:
    if is_nan(x) or (isinstance(x, float) and math.isinf(x)):
        return x
    return normalize_number(math.floor(x))


def to_hex(n: float | int) -> str:
    """`n.toString(16)` for the integral numbers s3db.js passes (NaN and infinities included)."""
    if is_nan(n):
        return "NaN"
    if math.isinf(n):
        return "Infinity" if n > 0 else "-Infinity"
    return format(int(n), "x") if n >= 0 else "-" + format(int(-n), "x")


def pad_start(text: str, width: int, fill: str = "0") -> str:
    """`text.padStart(width, fill)` (lengths in UTF-16 units; s3db.js only pads ASCII here)."""
    return text.rjust(width, fill)


# --- ip.js ---------------------------------------------------------------------------------------------

_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\Z")
_H = "[0-9a-fA-F]"
_V4 = r"((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])"
_IPV6 = re.compile(
    rf"(({_H}{{1,4}}:){{7}}{_H}{{1,4}}|({_H}{{1,4}}:){{1,7}}:|({_H}{{1,4}}:){{1,6}}:{_H}{{1,4}}|"
    rf"({_H}{{1,4}}:){{1,5}}(:{_H}{{1,4}}){{1,2}}|({_H}{{1,4}}:){{1,4}}(:{_H}{{1,4}}){{1,3}}|"
    rf"({_H}{{1,4}}:){{1,3}}(:{_H}{{1,4}}){{1,4}}|({_H}{{1,4}}:){{1,2}}(:{_H}{{1,4}}){{1,5}}|"
    rf"{_H}{{1,4}}:((:{_H}{{1,4}}){{1,6}})|:((:{_H}{{1,4}}){{1,7}}|:)|fe80:(:{_H}{{0,4}}){{0,4}}%[0-9a-zA-Z]+|"
    rf"::(ffff(:0{{1,4}})?:)?{_V4}|({_H}{{1,4}}:){{1,4}}:{_V4})\Z"
)


def is_valid_ipv4(ip: Any) -> bool:
    return isinstance(ip, str) and _IPV4.match(ip) is not None and all(
        int(g) <= 255 for g in _IPV4.match(ip).groups())  # type: ignore[union-attr]


def is_valid_ipv6(ip: Any) -> bool:
    return isinstance(ip, str) and _IPV6.match(ip) is not None


def encode_ipv4(ip: str) -> str:
    if not is_valid_ipv4(ip):
        raise JSError("Invalid IPv4 address")
    return base64.b64encode(bytes(int(o) for o in ip.split("."))).decode("ascii")


def decode_ipv4(encoded: str) -> str:
    data = base64_decode_lenient(encoded)
    if len(data) != 4:
        raise JSError("Invalid encoded IPv4 length")
    return ".".join(str(b) for b in data)


def expand_ipv6(ip: str) -> str:
    if not is_valid_ipv6(ip):
        raise JSError("Invalid IPv6 address")
    if ip == "::":
        return ":".join(["0000"] * 8)
    expanded = ip
    if "::" in expanded:
        parts = expanded.split("::")
        left = parts[0].split(":") if parts[0] else []
        right = parts[1].split(":") if parts[1] else []
        missing = 8 - len(left) - len(right)
        if missing < 0:
            raise JSError("RangeError: Invalid array length")
        expanded = ":".join(left + ["0"] * missing + right)
    return ":".join(g.rjust(4, "0") for g in expanded.split(":"))


def encode_ipv6(ip: str) -> str:
    out = bytearray()
    for group in expand_ipv6(ip).split(":"):
        value = to_int32(parse_int_radix(group, 16))  # NaN (`1.2.3.4` of a mapped IPv4) -> 0
        out += bytes(((value >> 8) & 0xFF, value & 0xFF))
    return base64.b64encode(bytes(out)).decode("ascii")


def compress_ipv6(ip: str) -> str:
    groups = [to_hex(parse_int_radix(g, 16)) for g in ip.split(":")]
    sequences: list[tuple[int, int]] = []
    start, length = -1, 0
    for index, group in enumerate(groups):
        if group == "0":
            if start == -1:
                start, length = index, 1
            else:
                length += 1
        elif length > 0:
            sequences.append((start, length))
            start, length = -1, 0
    if length > 0:
        sequences.append((start, length))
    longest = sorted((s for s in sequences if s[1] >= 2), key=lambda s: -s[1])  # stable, like Array.sort
    compressed = ":".join(groups)
    if longest:
        s, n = longest[0]
        before, after = ":".join(groups[:s]), ":".join(groups[s + n :])
        compressed = f"{before}::{after}"
    return compressed


def decode_ipv6(encoded: str) -> str:
    if len(encoded.encode("utf-16-le")) // 2 != 24 and is_valid_ipv6(encoded):
        return encoded
    data = base64_decode_lenient(encoded)
    if len(data) != 16:
        raise JSError("Invalid encoded IPv6 length")
    full = ":".join(format((data[i] << 8) | data[i + 1], "04x") for i in range(0, 16, 2))
    return compress_ipv6(full)


# --- binary.js -----------------------------------------------------------------------------------------


def encode_bits(buffer: bytes, bit_count: int | None) -> str:
    if bit_count is not None and len(buffer) != (bit_count + 7) >> 3:
        raise JSError("Bitmap size mismatch")
    return base64.b64encode(buffer).decode("ascii")


def decode_bits(encoded: str, bit_count: int | None) -> bytes:
    data = base64_decode_lenient(encoded)
    if bit_count is not None and len(data) != (bit_count + 7) >> 3:
        raise JSError("Decoded bitmap size mismatch")
    return data


# --- geo-encoding.js -----------------------------------------------------------------------------------


def _encode_geo(value: Any, precision: int, offset: int) -> Any:
    if value is None or not is_number(value) or math.isnan(value) or math.isinf(value):
        return value
    if value < -offset or value > offset:
        raise JSError("coordinate out of range")
    return "~" + base62.encode(js_round((value + offset) * float(10**precision)))


def _decode_geo(encoded: Any, precision: int, offset: int) -> Any:
    if not isinstance(encoded, str) or not encoded.startswith("~"):
        return encoded
    scaled = base62.decode(encoded[1:])
    if is_nan(scaled):
        return math.nan
    return normalize_number(scaled / float(10**precision) - offset)


def encode_geo_lat(value: Any, precision: int = 6) -> Any:
    return _encode_geo(value, precision, 90)


def decode_geo_lat(encoded: Any, precision: int = 6) -> Any:
    return _decode_geo(encoded, precision, 90)


def encode_geo_lon(value: Any, precision: int = 6) -> Any:
    return _encode_geo(value, precision, 180)


def decode_geo_lon(encoded: Any, precision: int = 6) -> Any:
    return _decode_geo(encoded, precision, 180)


def encode_geo_point(lat: Any, lon: Any, precision: int = 6) -> str:
    return js_string(encode_geo_lat(lat, precision)) + js_string(encode_geo_lon(lon, precision))


def decode_geo_point(encoded: Any, precision: int = 6) -> dict[str, Any]:
    parts = [p for p in encoded.split("~") if p] if isinstance(encoded, str) else []
    if len(parts) != 2:
        return {"latitude": math.nan, "longitude": math.nan}
    return {"latitude": decode_geo_lat("~" + parts[0], precision),
            "longitude": decode_geo_lon("~" + parts[1], precision)}


# --- text-compression.js -------------------------------------------------------------------------------

_B85 = "!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~"
#: `BASE85_DECODE_MAP`: a Uint8Array(128); characters outside the alphabet read as 0 (code >= 128: undefined).
_B85_VALUE = {c: i for i, c in enumerate(_B85)}


def encode_base85(data: bytes) -> str:
    out: list[str] = []
    full = len(data) // 4
    for i in range(0, full * 4, 4):
        val = int.from_bytes(data[i : i + 4], "big")
        group = []
        for _ in range(5):
            group.append(_B85[val % 85])
            val //= 85
        out.extend(reversed(group))
    remainder = len(data) % 4
    if remainder:
        val = int.from_bytes(data[full * 4 :] + b"\0" * (4 - remainder), "big")
        group = []
        for _ in range(5):
            group.append(_B85[val % 85])
            val //= 85
        out.extend(list(reversed(group))[: remainder + 1])
    return "".join(out)


def decode_base85(text: str) -> bytes:
    def value(c: str) -> float:
        code = ord(c) if len(c) == 1 else 0xFFFF
        return float(_B85_VALUE.get(c, 0)) if code < 128 else math.nan

    units = list(text)  # the alphabet is ASCII: anything else decodes as garbage or NaN either way
    full, remainder = len(units) // 5, len(units) % 5
    out = bytearray()
    for i in range(0, full * 5, 5):
        val = 0.0
        for c in units[i : i + 5]:
            val = val * 85 + value(c)
        n = to_uint32(val)
        out += n.to_bytes(4, "big")
    if remainder:
        val = 0.0
        for c in units[full * 5 :]:
            val = val * 85 + value(c)
        for _ in range(5 - remainder):
            val = val * 85 + 84
        n = to_uint32(val)
        out += n.to_bytes(4, "big")[: remainder - 1]
    return bytes(out)


def inflate_raw(data: bytes) -> bytes:
    """`zlib.inflateRawSync`: JSError for a damaged or truncated stream."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data) + d.flush()
    except zlib.error as exc:
        raise JSError(f"zlib: {exc}") from exc
    if not d.eof:
        raise JSError("zlib: unexpected end of file")
    return out


def decompress_text(encoded: Any) -> Any:
    """`decompressText`: `z85:` (base85) or `z:` (base64) + raw deflate of UTF-8 text; other values as given."""
    if not isinstance(encoded, str):
        return encoded
    if encoded.startswith("z85:"):
        payload = encoded[4:]
        return "" if not payload else utf8_decode_lenient(inflate_raw(decode_base85(payload)))
    if encoded.startswith("z:"):
        payload = encoded[2:]
        return "" if not payload else utf8_decode_lenient(inflate_raw(base64_decode_lenient(payload)))
    return encoded


def compress_text(value: str, level: int | None = None, threshold: int | None = None,
                  encoding: str | None = None) -> str:
    """`compressText`. Python's zlib is not Node's (Chromium's fork): the deflate bytes differ, the text they
    inflate to does not."""
    if value == "":
        return value
    data = utf8_bytes(value)
    if len(data) < (100 if threshold is None else threshold):
        return value
    c = zlib.compressobj(6 if level is None else level, zlib.DEFLATED, -15)
    packed = c.compress(data) + c.flush()
    out = "z85:" + encode_base85(packed) if encoding == "base85" else "z:" + base64.b64encode(packed).decode("ascii")
    return value if len(out) >= len(data) else out
