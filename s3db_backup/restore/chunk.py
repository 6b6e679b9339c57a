"""VerifyChunk and ImportChunk: walk one backup file part by part from a small cursor.

Verify proves every part (size, sha256, frames, line count, every line parses and gives back its object)
before Import writes a single object, so a damaged backup writes nothing to the target. Import puts each
object back exactly as stored: a record line goes through the s3db.js encoder (with the stored parts the line
kept), a stored line as it is; without `overwrite` it uses a conditional write (If-None-Match: *) so an
existing object is kept.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.archive.crypto import PartCipher, open_cipher
from s3db_backup.archive.lines import StoredObject, decode_line
from s3db_backup.archive.manifest import FileInfo
from s3db_backup.archive.records import ResourceCodecs, restore_object
from s3db_backup.catalog import BackupPaths, read_manifest, write_json
from s3db_backup.config import Settings
from s3db_backup.errors import IntegrityError
from s3db_backup.format.codec import ResourceCodec
from s3db_backup.locations import S3Location
from s3db_backup.restore.parts import check_file_size, read_part
from s3db_backup.restore.plan import restore_dir


@dataclass(frozen=True)
class RestoreJob:
    restore_id: str
    backup_id: str
    store: S3Location
    target: S3Location
    overwrite: bool
    file_key: str
    settings: Settings

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestoreJob:
        return cls(
            restore_id=data["restoreId"],
            backup_id=data["backupId"],
            store=S3Location.parse(data["store"]),
            target=S3Location.parse(data["target"]),
            overwrite=bool(data.get("overwrite", False)),
            file_key=data["unit"]["file"],
            settings=Settings.from_dict(data.get("settings")),
        )

    @property
    def paths(self) -> BackupPaths:
        return BackupPaths(self.store, self.backup_id)

    def file(self, s3: Any) -> FileInfo:
        return self.open(s3)[0]

    def open(self, s3: Any) -> tuple[FileInfo, PartCipher | None, ResourceCodec | None]:
        """The file's manifest entry; for an encrypted backup, its cipher (key re-created, never stored); for
        a records file, the codec of its resource from the source schema the manifest holds."""
        manifest = read_manifest(s3, self.paths)
        try:
            file = manifest.file(self.file_key)
        except KeyError:
            raise IntegrityError(f"the manifest lists no file {self.file_key}", operation="restore",
                                 backupId=self.backup_id) from None
        cipher = open_cipher(manifest.encryption, self.backup_id, passphrase_secret=self.settings.passphraseSecret,
                             operation="restore")
        codec = ResourceCodecs.from_text(manifest.sourceSchema).get(file.resource) if file.kind == "records" else None
        return file, cipher, codec


def verify_chunk(
    s3: Any, job_data: dict[str, Any], cursor: dict[str, Any] | None, *, deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    job = RestoreJob.from_dict(job_data)
    file, cipher, codec = job.open(s3)
    state = dict(cursor or {"part": 0, "lines": 0, "seq": 0})
    state["seq"] += 1
    if state["part"] == 0:
        check_file_size(s3, job.paths, file, "verify")
    verified_here = 0
    while state["part"] < len(file.parts):
        if verified_here and clock() >= deadline:
            return {"job": job_data, "cursor": state, "done": False}
        part = file.parts[state["part"]]
        for number, line in enumerate(read_part(s3, job.paths, file, part, "verify", cipher), 1):
            try:
                restore_object(decode_line(line), codec)
            except (ValueError, TypeError) as exc:
                raise IntegrityError(
                    f"line {number} of part {part.number} of {file.key} is not a restorable backup line",
                    description=str(exc), operation="verify", backupId=job.backup_id, file=file.key,
                ) from exc
        state["lines"] += part.lines
        state["part"] += 1
        verified_here += 1
    if state["lines"] != file.lines:
        raise IntegrityError(f"{file.key} holds {state['lines']} lines, the manifest says {file.lines}",
                             operation="verify", backupId=job.backup_id, file=file.key)
    return {"job": None, "cursor": None, "done": True, "file": file.key, "lines": state["lines"]}


def import_chunk(
    s3: Any, job_data: dict[str, Any], cursor: dict[str, Any] | None, *, deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    job = RestoreJob.from_dict(job_data)
    file, cipher, codec = job.open(s3)
    state = dict(cursor or {"part": 0, "line": 0, "seq": 0,
                            "counts": {"records": 0, "objects": 0, "skipped": 0, "bytes": 0}})
    state["seq"] += 1
    max_lines = job.settings.chunkMaxLines
    done_lines = 0
    with ThreadPoolExecutor(max_workers=job.settings.concurrency, thread_name_prefix="put") as pool:
        while state["part"] < len(file.parts):
            part = file.parts[state["part"]]
            lines = read_part(s3, job.paths, file, part, "restore", cipher)[state["line"] :]
            pending: deque[Future[tuple[bool, int, bool]]] = deque()
            stop = False
            for line in lines:
                started = done_lines + len(pending)
                if started and (clock() >= deadline or (max_lines and started >= max_lines)):
                    stop = True
                    break
                parsed = decode_line(line)
                obj = restore_object(parsed, codec)
                pending.append(pool.submit(_put, s3, job, obj, parsed.record_id is not None))
                if len(pending) >= job.settings.concurrency:
                    _account(state, pending.popleft().result())
                    done_lines += 1
            while pending:
                _account(state, pending.popleft().result())
                done_lines += 1
            if stop:
                return {"job": job_data, "cursor": state, "done": False}
            state["part"] += 1
            state["line"] = 0
    result = {"file": file.key, "resource": file.resource, "kind": file.kind, **state["counts"],
              "invocations": state["seq"]}
    write_json(s3, job.store.bucket, restore_dir(job.store, job.restore_id) + f"units/{file.key}.json", result)
    counts = state["counts"]
    lines = counts["records"] + counts["objects"] + counts["skipped"]
    return {"job": None, "cursor": None, "done": True, "file": file.key, "lines": lines, **counts}


def _account(state: dict[str, Any], outcome: tuple[bool, int, bool]) -> None:
    written, size, is_record = outcome
    counts = state["counts"]
    if written:
        counts["records" if is_record else "objects"] += 1
        counts["bytes"] += size
    else:
        counts["skipped"] += 1
    state["line"] += 1


def _put(s3: Any, job: RestoreJob, obj: StoredObject, is_record: bool) -> tuple[bool, int, bool]:
    """Write one object; (written, body bytes, is_record). An existing object is kept unless overwrite."""
    params: dict[str, Any] = {
        "Bucket": job.target.bucket,
        "Key": job.target.key(obj.key),
        "Body": obj.body,
        "Metadata": obj.metadata,
        **obj.headers,
    }
    if obj.content_type is not None:
        params["ContentType"] = obj.content_type
    if not job.overwrite:
        params["IfNoneMatch"] = "*"
    try:
        s3.put_object(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
            return False, 0, is_record
        raise
    return True, len(obj.body), is_record
