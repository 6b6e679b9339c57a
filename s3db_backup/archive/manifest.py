"""The backup manifest (`<backupId>/s3db.json`): what a backup holds and how to check it.

It keeps the seed's vocabulary (version, backupType, exportedAt, database, resources with recordCount,
exportFile, compression, format, bytesWritten) and adds what exactness needs: every file with its size,
sha256 and parts (byte range, sha256, line count, first/last key), and the source `s3db.json` verbatim.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MANIFEST_VERSION = "1.0"
FORMAT_NAME = "s3db-backup"

UnitKind = Literal["records", "objects", "unscoped"]


@dataclass
class PartInfo:
    number: int
    offset: int
    size: int
    sha256: str
    lines: int
    firstKey: str | None
    lastKey: str | None
    #: Sizes of the compression frames in the part (before encryption); needed to split brotli streams.
    frames: list[int] | None = None


@dataclass
class FileInfo:
    """One backup file; counts are of JSON lines by what they hold."""

    key: str
    kind: UnitKind
    resource: str | None
    compression: str
    bytes: int
    sha256: str
    lines: int
    records: int
    objects: int
    unrecognized: int
    vanished: int
    rawBytes: int
    parts: list[PartInfo] = field(default_factory=list)
    retries: int = 0
    #: Index of this file among the shards of a split unit (None: the unit is one file), and their count.
    shard: int | None = None
    shards: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileInfo:
        parts = [PartInfo(**p) for p in data.get("parts", [])]
        return cls(**{**data, "parts": parts})


@dataclass
class Manifest:
    backupId: str
    backupType: str
    createdAt: str
    exportedAt: str
    source: str
    database: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    files: list[FileInfo]
    sourceSchema: str
    totals: dict[str, int]
    version: str = MANIFEST_VERSION
    format: str = FORMAT_NAME
    #: How files are encrypted (s3db_backup.archive.crypto): algorithm, provider, wrapped key or KDF, key check.
    encryption: dict[str, Any] | None = None
    #: How record lines are written (archive.lines.LINE_FORMAT); None in backups from before decoded lines,
    #: whose lines are all in the stored form.
    lineFormat: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ValueError("not an s3db-backup manifest")
        files = [FileInfo.from_dict(f) for f in data.get("files", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**known, "files": files})

    def file(self, key: str) -> FileInfo:
        for f in self.files:
            if f.key == key:
                return f
        raise KeyError(key)
