"""The syntax of a backup line: one JSON object per stored object, in one of two forms.

A record line is the record as s3db.js get() returns it (`id` first, then its attributes, JSON types), plus
the reserved member `_s3db` with its schema version and, only where re-encoding the record would not give
the stored object back, the stored parts themselves:

    {"id":"u-1","name":"Ana","age":31,"_s3db":{"version":"v1"}}
    {"id":"u-2","bio":"{...}","_s3db":{"version":"v1","meta":{"_v":"v1","0":"{...}"}}}

A stored line holds the object exactly as stored (key relative to the database prefix, user metadata,
content type, standard headers, body), for everything that is not a decodable record: partition references,
other objects, and records the codec cannot read (`id` is kept for those):

    {"id":"u-3","_s3db":{"key":"resource=users/data/id=u-3","meta":{"_v":"v9"},"contentType":"..."}}

Bodies that are valid UTF-8 are kept as text, others as base64 with "bodyEncoding":"base64". This module is
pure syntax: which form a record gets, and how a record line becomes an object again, is archive/records.py.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any

RESERVED = "_s3db"
#: Names the line format in the manifest: decoded s3db.js 21.6.2 records (re-encoded by restore through the
#: codec) beside stored-form lines. A reader meeting a name it does not know must not guess.
LINE_FORMAT = "s3db.js-21.6.2-decoded/1"
#: Standard headers kept beside user metadata when S3 returns them.
HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")
#: StoredObject fields a record line may keep, and the `_s3db` member each is written as (in this order).
KEPT_MEMBERS = {"metadata": "meta", "content_type": "contentType", "headers": "headers", "body": "body"}
MAX_SAFE = 2**53


@dataclass(frozen=True)
class StoredObject:
    """An S3 object as s3db.js stored it; `key` is relative to the database prefix."""

    key: str
    metadata: dict[str, str]
    content_type: str | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredLine:
    """A line holding an object as stored; `record_id` is set for objects under a resource's data folder."""

    record_id: str | None
    obj: StoredObject


@dataclass(frozen=True)
class RecordLine:
    """A line holding a decoded record (with `id`), its schema version, and `kept`: StoredObject fields
    (`metadata`, `content_type`, `headers`, `body`) that replace what re-encoding the record gives."""

    record: dict[str, Any]
    version: str
    kept: dict[str, Any] = field(default_factory=dict)

    @property
    def record_id(self) -> str:
        return self.record["id"]


Line = StoredLine | RecordLine


def _dump(line: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate (JSON bodies may hold "\ud800") has no UTF-8 form: escape it, as JSON allows.
        return json.dumps(line, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def _body_members(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "bodyEncoding": "base64"}


def encode_line(obj: StoredObject, record_id: str | None) -> bytes:
    """The stored line of `obj` (`record_id` None for objects that are not records)."""
    stored: dict[str, Any] = {"key": obj.key, "meta": obj.metadata}
    if obj.content_type is not None:
        stored["contentType"] = obj.content_type
    if obj.headers:
        stored["headers"] = obj.headers
    if obj.body:
        stored.update(_body_members(obj.body))
    line: dict[str, Any] = {"id": record_id} if record_id is not None else {}
    line[RESERVED] = stored
    return _dump(line)


def encode_record_line(record: dict[str, Any], version: str, kept: dict[str, Any] | None = None) -> bytes:
    """The record line of a decoded record. ValueError when JSON cannot carry it: no string `id`, an
    attribute named like the reserved member, or a number JSON has no form for."""
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise ValueError("record has no string id")
    if RESERVED in record:
        raise ValueError(f"record has an attribute named {RESERVED!r}")
    reserved: dict[str, Any] = {"version": version}
    for name, member in KEPT_MEMBERS.items():
        if name not in (kept or {}):
            continue
        if name == "body":
            # Present even when empty: an absent body means "as re-encoded", an empty one means "no body".
            reserved.update(_body_members(kept["body"]))
        else:
            reserved[member] = kept[name]
    line = {"id": record_id, **{k: v for k, v in record.items() if k != "id"}, RESERVED: reserved}
    return _dump(line)


def _number(text: str) -> int | float:
    """A JSON number as s3db.js sees it: int when integral and exactly representable, float otherwise, so a
    record read back from a line is the value the codec decoded."""
    value = float(text) if any(c in text for c in ".eE") or len(text) > 15 else int(text)
    if isinstance(value, int) and abs(value) < MAX_SAFE:
        return value
    value = float(value)
    if math.isfinite(value) and value == int(value) and abs(value) < MAX_SAFE:
        return int(value)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strings(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} is not an object of strings")
    return {str(k): v for k, v in value.items()}


def _body(stored: dict[str, Any]) -> bytes:
    text = stored.get("body", "")
    if not isinstance(text, str):
        raise ValueError("body is not a string")
    encoding = stored.get("bodyEncoding")
    if encoding == "base64":
        return base64.b64decode(text, validate=True)
    if encoding in (None, "utf8"):
        return text.encode("utf-8")
    raise ValueError(f"unknown bodyEncoding {encoding!r}")


def decode_line(line: bytes | str) -> Line:
    """The line's record or stored object; ValueError on a malformed line."""
    data = json.loads(line, parse_int=_number, parse_float=_number, parse_constant=_no_constant)
    if not isinstance(data, dict) or not isinstance(data.get(RESERVED), dict):
        raise ValueError("line has no _s3db object")
    stored = data.pop(RESERVED)
    if "key" in stored:
        key = stored["key"]
        if not isinstance(key, str) or not key:
            raise ValueError("line has no stored key")
        content_type = stored.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            raise ValueError("contentType is not a string")
        obj = StoredObject(
            key=key,
            metadata=_strings(stored.get("meta", {}), "meta"),
            content_type=content_type,
            body=_body(stored),
            headers={k: v for k, v in _strings(stored.get("headers") or {}, "headers").items() if k in HEADERS},
        )
        record_id = data.get("id")
        return StoredLine(str(record_id) if record_id is not None else None, obj)
    version = stored.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError("_s3db has neither a stored key nor a schema version")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise ValueError("record line has no string id")
    kept: dict[str, Any] = {}
    if "meta" in stored:
        kept["metadata"] = _strings(stored["meta"], "meta")
    if "contentType" in stored:
        if stored["contentType"] is not None and not isinstance(stored["contentType"], str):
            raise ValueError("contentType is not a string")
        kept["content_type"] = stored["contentType"]
    if "headers" in stored:
        kept["headers"] = {k: v for k, v in _strings(stored["headers"], "headers").items() if k in HEADERS}
    if "body" in stored:
        kept["body"] = _body(stored)
    return RecordLine(data, version, kept)
