"""Which line a stored object gets, and the stored object a line gives back.

A record is written decoded (readable by jq, DuckDB, Athena without our code) only when the line alone is
proof of the exact object: at backup time the line is read back, re-encoded with the codec and compared with
the stored object, field by field. Fields that differ (s3db.js update() writes differently from insert(), get()
parses JSON-looking strings, truncate-data's flag is not returned...) are kept in `_s3db` as stored; a record
the codec cannot decode at all gets the stored form and is counted as unrecognized. Either way the restore is
byte for byte, and nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from s3db_backup.archive.lines import (
    Line,
    RecordLine,
    StoredObject,
    decode_line,
    encode_line,
    encode_record_line,
)
from s3db_backup.errors import SourceError
from s3db_backup.format.codec import ResourceCodec
from s3db_backup.format.layout import record_key
from s3db_backup.format.schema import DatabaseSchema

#: StoredObject fields that, all kept, rebuild a record without the encoder.
_WHOLE = {"metadata", "content_type", "body"}


class ResourceCodecs:
    """One ResourceCodec per resource, built on first use from a backup's source s3db.json.

    Built once per chunk invocation (export) or per file (restore), never per record: building a codec
    parses the resource's schema versions.
    """

    def __init__(self, schema: DatabaseSchema | None) -> None:
        self.schema = schema
        self._codecs: dict[str, ResourceCodec | None] = {}

    @classmethod
    def from_text(cls, raw: str | None) -> ResourceCodecs:
        """From the s3db.json text; an unreadable schema gives no codecs (every record stays as stored)."""
        if not raw:
            return cls(None)
        try:
            return cls(DatabaseSchema.parse(raw, where="backup"))
        except (ValueError, SourceError):
            return cls(None)

    def get(self, resource: str | None) -> ResourceCodec | None:
        if resource is None or self.schema is None:
            return None
        if resource not in self._codecs:
            try:
                self._codecs[resource] = ResourceCodec.from_schema(self.schema, resource)
            except Exception:
                # A schema entry the codec cannot even load: its records are backed up as stored, unrecognized.
                self._codecs[resource] = None
        return self._codecs[resource]


@dataclass(frozen=True)
class BuiltLine:
    """A line for one object; `decoded` tells whether it holds the decoded record."""

    data: bytes
    decoded: bool


def backup_line(obj: StoredObject, record_id: str | None, codec: ResourceCodec | None) -> BuiltLine:
    """The line of one object: decoded when `record_id` is set, the codec reads it and the line provably
    restores `obj`; the stored form otherwise."""
    def stored() -> BuiltLine:  # built only when needed: most records leave as decoded lines
        return BuiltLine(encode_line(obj, record_id), False)

    if record_id is None or codec is None:
        return stored()
    try:
        decoded = codec.decode(obj)
    except Exception:
        # UnrecognizedObject/UnsupportedType, or any codec failure: the stored form is always exact, and the
        # object is counted as unrecognized rather than failing the backup.
        return stored()
    if decoded.id != record_id:
        return stored()
    try:
        line = encode_record_line(decoded.data, decoded.version)
    except (ValueError, TypeError):
        # Not representable in JSON: a reserved member name, a non-finite number, bytes (buffer/bits values
        # the codec can return for objects s3db.js itself never writes).
        return stored()
    rebuilt = _rebuilt(line, codec)
    if rebuilt == obj:
        return BuiltLine(line, True)
    if rebuilt is not None and rebuilt.key != obj.key:
        return stored()
    kept = _differences(rebuilt, obj)
    line = encode_record_line(decoded.data, decoded.version, kept)
    if _rebuilt(line, codec) == obj:
        return BuiltLine(line, True)
    return stored()


def restore_object(line: Line, codec: ResourceCodec | None) -> StoredObject:
    """The stored object a line gives back. ValueError (UnrecognizedObject, UnsupportedType, ...) when a record
    line cannot be re-encoded: no schema for its resource, or a version the codec cannot write."""
    if not isinstance(line, RecordLine):
        return line.obj
    if codec is None:
        raise ValueError(f"record {line.record_id!r} has no schema to be encoded with")
    kept = line.kept
    if kept.keys() >= _WHOLE:
        return StoredObject(record_key(codec.resource, line.record_id), kept["metadata"], kept["content_type"],
                            kept["body"], kept.get("headers", {}))
    encoded = codec.encode(line.record, line.version)
    return replace(encoded, **kept) if kept else encoded


def _rebuilt(line: bytes, codec: ResourceCodec) -> StoredObject | None:
    """What restore will write for `line` (None when it cannot), read back from the bytes themselves so JSON's
    number and string forms are part of the check."""
    try:
        return restore_object(decode_line(line), codec)
    except Exception:
        return None


def _differences(rebuilt: StoredObject | None, obj: StoredObject) -> dict[str, object]:
    if rebuilt is None:
        whole = {"metadata": obj.metadata, "content_type": obj.content_type, "body": obj.body}
        return whole | ({"headers": obj.headers} if obj.headers else {})
    kept: dict[str, object] = {}
    for name in ("metadata", "content_type", "headers", "body"):
        if getattr(rebuilt, name) != getattr(obj, name):
            kept[name] = getattr(obj, name)
    return kept
