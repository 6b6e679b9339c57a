"""s3db.js 21.6.2 `concerns/base62.js`: numbers as base-62 text, attribute indexes as base-36 keys."""

from __future__ import annotations

import math

from s3db_backup.format.codec.js import is_number, normalize_number, number_to_string, to_number

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
KEY_ALPHABET = ALPHABET[:36]
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_KEY_VALUE = {c: i for i, c in enumerate(KEY_ALPHABET)}
_EXACT = 2**53


def _encode(n: float, alphabet: str) -> str:
    if not is_number(n) or math.isnan(n) or math.isinf(n):
        return "undefined"
    if n == 0:
        return alphabet[0]
    if n < 0:
        return "-" + _encode(-math.floor(n), alphabet)
    base = len(alphabet)
    whole = math.floor(n)
    if whole < _EXACT:
        # Below 2**53 the doubles' x % base and floor(x / base) are exact, so integers give the same digits.
        digits = []
        while whole:
            whole, digit = divmod(whole, base)
            digits.append(alphabet[digit])
        return "".join(reversed(digits))
    x = float(whole)  # JavaScript does this in doubles: keep their rounding
    out = ""
    while x:
        out = alphabet[int(x % base)] + out
        x = float(math.floor(x / base))
    return out


def _decode(s: str, values: dict[str, int]) -> float | int:
    if not isinstance(s, str):
        return math.nan
    if s == "":
        return 0
    negative = s[0] == "-"
    body = s[1:] if negative else s
    base = len(values)
    if len(body) <= 8:
        # 62**8 < 2**53: every partial sum is an integer the doubles hold exactly, so integers give the same
        m = 0
        for ch in body:
            idx = values.get(ch)
            if idx is None:
                return math.nan
            m = m * base + idx
        return -m if negative else m
    r = 0.0  # doubles, as in JavaScript
    for ch in body:
        idx = values.get(ch)
        if idx is None:
            return math.nan
        r = r * base + idx
    return normalize_number(-r if negative else r)


def encode(n: float | int) -> str:
    """`encode(n)` (base62 of floor(n); `-` + encode(-floor(n)) for negatives)."""
    return _encode(n, ALPHABET)


def decode(s: str) -> float | int:
    return _decode(s, _VALUE)


def encode_key(n: int) -> str:
    """Attribute index -> metadata key (base 36)."""
    return _encode(n, KEY_ALPHABET)


def decode_key(s: str) -> float | int:
    return _decode(s, _KEY_VALUE)


def encode_decimal(n: float | int) -> str:
    if not is_number(n) or math.isnan(n) or math.isinf(n):
        return "undefined"
    negative = n < 0
    text = number_to_string(abs(n))
    int_part, _, dec_part = text.partition(".")
    # Number(digits) is float(digits) for plain decimal digits (the regular case; "1e+21" goes the long way)
    whole = normalize_number(float(int_part)) if int_part.isdigit() and int_part.isascii() else to_number(int_part)
    encoded_int = encode(whole)
    sign = "-" if negative else ""
    return f"{sign}{encoded_int}.{dec_part}" if dec_part else f"{sign}{encoded_int}"


def decode_decimal(s: str) -> float | int:
    if not isinstance(s, str):
        return math.nan
    negative = s[:1] == "-"
    body = s[1:] if negative else s
    parts = body.split(".")
    int_part = parts[0]
    dec_part = parts[1] if len(parts) > 1 else None
    decoded_int = decode(int_part)
    if isinstance(decoded_int, float) and math.isnan(decoded_int):
        return math.nan
    if dec_part and type(decoded_int) is int and dec_part.isdigit() and dec_part.isascii():
        # Number("<int>.<digits>") is the double nearest that decimal, which is what float() parses
        num = normalize_number(float(f"{decoded_int}.{dec_part}"))
        return normalize_number(-num) if negative else num
    num = to_number(number_to_string(decoded_int) + "." + dec_part) if dec_part else decoded_int
    return normalize_number(-num if negative else num) if not (isinstance(num, float) and math.isnan(num)) else num


def js_round(x: float) -> int:
    """`Math.round(x)`: halves toward +infinity."""
    r = math.floor(x)
    return r + 1 if x - r >= 0.5 else r


def _scaled(n: float, precision: int) -> int:
    return js_round(n * float(10**precision))


def encode_fixed_point(n: float, precision: int = 6) -> str:
    if not is_number(n) or math.isnan(n) or math.isinf(n):
        return "undefined"
    scaled = _scaled(float(n), precision)
    if scaled == 0:
        return "^0"
    body = _encode(abs(scaled), ALPHABET)
    return "^" + ("-" if scaled < 0 else "") + body


def decode_fixed_point(s: str, precision: int = 6) -> float | int:
    if not isinstance(s, str) or not s.startswith("^"):
        return math.nan
    body = s[1:]
    if body == "0":
        return 0
    negative = body[:1] == "-"
    if negative:
        body = body[1:]
    r = 0.0
    for ch in body:
        idx = _VALUE.get(ch)
        if idx is None:
            return math.nan
        r = r * 62 + idx
    scaled = -r if negative else r
    return normalize_number(scaled / float(10**precision))


def encode_fixed_point_batch(values: list, precision: int = 6) -> str:
    if len(values) == 0:
        return "^[]"
    parts = []
    for n in values:
        if not is_number(n) or math.isnan(n) or math.isinf(n):
            parts.append("")
            continue
        scaled = _scaled(float(n), precision)
        if scaled == 0:
            parts.append("0")
        else:
            parts.append(("-" if scaled < 0 else "") + _encode(abs(scaled), ALPHABET))
    return "^[" + ",".join(parts) + "]"


def decode_fixed_point_batch(s: str, precision: int = 6) -> list:
    if not isinstance(s, str) or not s.startswith("^["):
        return []
    inner = s[2:-1]
    if inner == "":
        return []
    out: list = []
    for part in inner.split(","):
        if part == "0":
            out.append(0)
        elif part == "":
            out.append(math.nan)
        else:
            out.append(decode_fixed_point("^" + part, precision))
    return out
