"""Reads one part of a backup file with a ranged GET and proves it is the part the manifest describes:
size and sha256 of the stored bytes, then (encrypted backups) AES-GCM with the part's position and final
flag as associated data, then its compression frames, then its line count."""

from __future__ import annotations

import hashlib
from typing import Any

from s3db_backup.archive.crypto import PartCipher, open_part_or_fail
from s3db_backup.archive.frames import CODECS
from s3db_backup.archive.manifest import FileInfo, PartInfo
from s3db_backup.catalog import BackupPaths
from s3db_backup.errors import IntegrityError


def read_part(
    s3: Any, paths: BackupPaths, file: FileInfo, part: PartInfo, operation: str, cipher: PartCipher | None = None
) -> list[bytes]:
    """The part's JSON lines, after checking its size, sha256, authenticity, frames and line count."""
    key = paths.file(file.key)
    rng = f"bytes={part.offset}-{part.offset + part.size - 1}" if part.size else None
    try:
        data = s3.get_object(Bucket=paths.store.bucket, Key=key, **({"Range": rng} if rng else {}))["Body"].read()
    except Exception as exc:
        raise IntegrityError(
            f"cannot read part {part.number} of {file.key}",
            description=f"The backup file is missing or unreadable: {exc}.",
            operation=operation, backupId=paths.backup_id, file=file.key,
        ) from exc
    if len(data) != part.size or hashlib.sha256(data).hexdigest() != part.sha256:
        raise IntegrityError(
            f"checksum mismatch in part {part.number} of {file.key}",
            description="The backup file does not match its manifest (sha256); it was damaged or altered.",
            operation=operation, backupId=paths.backup_id, file=file.key, part=part.number,
        )
    if cipher is not None:
        # The position in the manifest's part list, not the manifest's own numbers, goes into the associated
        # data: parts reordered or dropped (in the file and the manifest alike) then fail to open.
        position = next(i for i, p in enumerate(file.parts, 1) if p is part)
        data = open_part_or_fail(cipher, data, file_key=file.key, number=position,
                                 final=position == len(file.parts), operation=operation)
    try:
        text = b"".join(CODECS[file.compression].iter_decompress(data, part.frames))
    except ValueError as exc:
        raise IntegrityError(
            f"part {part.number} of {file.key} does not decompress",
            description=str(exc), operation=operation, backupId=paths.backup_id, file=file.key,
        ) from exc
    lines = text.splitlines(keepends=False) if text else []
    if len(lines) != part.lines:
        raise IntegrityError(
            f"part {part.number} of {file.key} holds {len(lines)} lines, the manifest says {part.lines}",
            operation=operation, backupId=paths.backup_id, file=file.key, part=part.number,
        )
    return lines


def check_file_size(s3: Any, paths: BackupPaths, file: FileInfo, operation: str) -> None:
    try:
        size = s3.head_object(Bucket=paths.store.bucket, Key=paths.file(file.key))["ContentLength"]
    except Exception as exc:
        raise IntegrityError(
            f"backup file {file.key} is missing", operation=operation, backupId=paths.backup_id,
            file=file.key,
        ) from exc
    if size != file.bytes or sum(p.size for p in file.parts) != file.bytes:
        raise IntegrityError(
            f"backup file {file.key} is {size} bytes, the manifest says {file.bytes}",
            operation=operation, backupId=paths.backup_id, file=file.key,
        )
