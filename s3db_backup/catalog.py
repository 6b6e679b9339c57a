"""The backup store: where each backup's files live, which backups exist, and in what state.

A backup is *complete* only when its manifest exists. Until then its `_status.json` says in-progress or
failed, so an interrupted backup is never listed as good.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.archive.manifest import Manifest
from s3db_backup.errors import BackupNotFoundError, StoreError
from s3db_backup.locations import S3Location

MANIFEST = "s3db.json"
STATUS = "_status.json"
WORK = ".work"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class BackupPaths:
    """Keys of one backup's objects in the store."""

    store: S3Location
    backup_id: str

    @property
    def dir(self) -> str:
        return self.store.key(self.backup_id) + "/"

    @property
    def manifest(self) -> str:
        return self.dir + MANIFEST

    @property
    def status(self) -> str:
        return self.dir + STATUS

    def file(self, name: str) -> str:
        return self.dir + name

    def work(self, relative: str) -> str:
        return f"{self.dir}{WORK}/{relative}"


def is_missing(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchUpload")


def read_json(s3: Any, bucket: str, key: str) -> Any | None:
    """The parsed JSON object at `key`, or None when it does not exist."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise
    return json.loads(body)


def write_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        ContentType="application/json",
    )


def check_store(s3: Any, store: S3Location, operation: str) -> None:
    """Fail clearly when the store's bucket is missing or unreadable."""
    try:
        s3.head_bucket(Bucket=store.bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise StoreError(
            f"backup store {store} is not reachable ({code})",
            description="The store's bucket does not exist or these credentials cannot read it.",
            operation=operation,
            bucket=store.bucket,
        ) from exc


def read_manifest(s3: Any, paths: BackupPaths, operation: str = "restore") -> Manifest:
    try:
        body = s3.get_object(Bucket=paths.store.bucket, Key=paths.manifest)["Body"].read()
    except ClientError as exc:
        if not is_missing(exc):
            raise
        status = read_json(s3, paths.store.bucket, paths.status)
        state = (status or {}).get("status")
        detail = f"It is {state}; only complete backups can be used." if state else "No such backup."
        raise BackupNotFoundError(
            f"backup {paths.backup_id} has no manifest in {paths.store}",
            description=detail,
            operation=operation,
            backupId=paths.backup_id,
        ) from exc
    try:
        return Manifest.from_json(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(
            f"manifest of backup {paths.backup_id} is not readable",
            description=f"{paths.manifest} is damaged or not ours: {exc}.",
            operation=operation,
            backupId=paths.backup_id,
        ) from exc


@dataclass(frozen=True)
class BackupEntry:
    backupId: str
    status: str
    backupType: str | None
    createdAt: str | None
    finishedAt: str | None
    records: int
    bytes: int
    source: str | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_backups(s3: Any, store: S3Location) -> list[BackupEntry]:
    """Every backup under the store, newest first; complete ones carry their totals."""
    check_store(s3, store, "list")
    ids: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=store.key_prefix, Delimiter="/"):
        for cp in page.get("CommonPrefixes", []):
            name = cp["Prefix"][len(store.key_prefix) : -1]
            if not name.startswith("_") and not name.startswith("."):
                ids.append(name)
    entries = [_entry(s3, BackupPaths(store, backup_id)) for backup_id in ids]
    found = [e for e in entries if e is not None]
    return sorted(found, key=lambda e: (e.createdAt or "", e.backupId), reverse=True)


def _entry(s3: Any, paths: BackupPaths) -> BackupEntry | None:
    manifest = read_json(s3, paths.store.bucket, paths.manifest)
    if manifest is not None:
        totals = manifest.get("totals", {})
        return BackupEntry(
            backupId=paths.backup_id,
            status="completed",
            backupType=manifest.get("backupType"),
            createdAt=manifest.get("createdAt"),
            finishedAt=manifest.get("exportedAt"),
            records=int(totals.get("records", 0)),
            bytes=int(totals.get("bytes", 0)),
            source=manifest.get("source"),
        )
    status = read_json(s3, paths.store.bucket, paths.status)
    if status is None:
        return None
    return BackupEntry(
        backupId=paths.backup_id,
        status=str(status.get("status", "unknown")),
        backupType=status.get("backupType"),
        createdAt=status.get("createdAt"),
        finishedAt=status.get("failedAt"),
        records=0,
        bytes=0,
        source=status.get("source"),
        error=(status.get("error") or {}).get("message"),
    )


def delete_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix`; returns how many. Refuses an empty prefix."""
    if not prefix:
        raise ValueError("refusing to delete a whole bucket")
    count = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            if resp.get("Errors"):
                first = resp["Errors"][0]
                raise StoreError(
                    f"could not delete {first.get('Key')}: {first.get('Code')}",
                    operation="delete",
                    bucket=bucket,
                )
            count += len(keys)
    return count


def delete_backup(s3: Any, paths: BackupPaths) -> int:
    """Delete a backup, its manifest first: a delete cut short leaves no backup that looks good."""
    s3.delete_object(Bucket=paths.store.bucket, Key=paths.manifest)
    return delete_prefix(s3, paths.store.bucket, paths.dir)
