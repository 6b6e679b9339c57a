"""The s3db.js 21.6.2 storage codec: stored objects <-> records exactly as s3db.js reads and writes them.

Modules, one job each: `js` (JavaScript value semantics), `base62` (number and key encodings), `metadata`
(the header value layer and size rules), `types` (attribute types and their hooks), `mapping` (attribute ->
short key from s3db.json), `schema` (mapper/unmapper of one version), `behaviors` (metadata/body split and
get() assembly), `partitions` (reference keys), `record` (the public API below).
"""

from s3db_backup.format.codec.record import (
    DecodedRecord,
    MetadataLimitExceeded,
    ResourceCodec,
    UnrecognizedObject,
    UnsupportedType,
)

__all__ = ["DecodedRecord", "MetadataLimitExceeded", "ResourceCodec", "UnrecognizedObject", "UnsupportedType"]
