"""One JSON line per stored object: the record's `id` plus `_s3db`, the stored form (key, user metadata,
content type, body) from which restore rebuilds the object byte for byte.

    {"id":"u-1","_s3db":{"key":"resource=users/data/id=u-1","meta":{"_v":"1","0":"Ana"},
                         "contentType":"application/json","body":"..."}}

Bodies that are valid UTF-8 are kept as text; others as base64 with "bodyEncoding":"base64".
Lines of objects that are not records carry no `id`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

RESERVED = "_s3db"
#: Standard headers kept beside user metadata when S3 returns them.
HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")


@dataclass(frozen=True)
class StoredObject:
    """An S3 object as s3db.js stored it; `key` is relative to the database prefix."""

    key: str
    metadata: dict[str, str]
    content_type: str | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def encode_line(obj: StoredObject, record_id: str | None) -> bytes:
    stored: dict[str, Any] = {"key": obj.key, "meta": obj.metadata}
    if obj.content_type is not None:
        stored["contentType"] = obj.content_type
    if obj.headers:
        stored["headers"] = obj.headers
    if obj.body:
        try:
            stored["body"] = obj.body.decode("utf-8")
        except UnicodeDecodeError:
            stored["body"] = base64.b64encode(obj.body).decode("ascii")
            stored["bodyEncoding"] = "base64"
    line: dict[str, Any] = {"id": record_id} if record_id is not None else {}
    line[RESERVED] = stored
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode_line(line: bytes | str) -> tuple[str | None, StoredObject]:
    """The record id (None for non-record objects) and the stored object; ValueError on a malformed line."""
    data = json.loads(line)
    if not isinstance(data, dict) or not isinstance(data.get(RESERVED), dict):
        raise ValueError("line has no _s3db object")
    stored = data[RESERVED]
    key = stored.get("key")
    meta = stored.get("meta", {})
    if not isinstance(key, str) or not key or not isinstance(meta, dict):
        raise ValueError("line has no stored key or metadata")
    text = stored.get("body", "")
    if stored.get("bodyEncoding") == "base64":
        body = base64.b64decode(text, validate=True)
    elif stored.get("bodyEncoding") in (None, "utf8"):
        body = text.encode("utf-8")
    else:
        raise ValueError(f"unknown bodyEncoding {stored.get('bodyEncoding')!r}")
    obj = StoredObject(
        key=key,
        metadata={str(k): str(v) for k, v in meta.items()},
        content_type=stored.get("contentType"),
        body=body,
        headers={str(k): str(v) for k, v in (stored.get("headers") or {}).items() if k in HEADERS},
    )
    record_id = data.get("id")
    return (str(record_id) if record_id is not None else None), obj
