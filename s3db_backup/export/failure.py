"""FailBackup: leave nothing a later run could take for good data, and say why the backup failed."""

from __future__ import annotations

from typing import Any

from s3db_backup.catalog import BackupPaths, delete_prefix, iso, read_json, utcnow, write_json
from s3db_backup.errors import BackupError
from s3db_backup.locations import S3Location


def describe_failure(error: dict[str, Any] | None) -> dict[str, Any]:
    """Step Functions' {"Error","Cause"} as a BackupError dict when the cause is one of ours."""
    error = error or {}
    cause = str(error.get("Cause", ""))
    parsed: BackupError | None = None
    try:
        import json

        payload = json.loads(cause)
        parsed = BackupError.from_json(str(payload.get("errorMessage", "")))
    except (ValueError, AttributeError):
        parsed = BackupError.from_json(cause)
    if parsed is not None:
        return parsed.to_dict()
    return {"name": str(error.get("Error", "Error")), "message": cause[:2000] or "unknown failure",
            "description": "", "driver": "s3", "operation": "backup"}


def fail_backup(s3: Any, *, backup_id: str, store: str, error: dict[str, Any] | None) -> dict[str, Any]:
    dst = S3Location.parse(store, operation="fail")
    paths = BackupPaths(dst, backup_id)
    aborted = 0
    paginator = s3.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=dst.bucket, Prefix=paths.dir):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=dst.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    failure = describe_failure(error)
    status = read_json(s3, dst.bucket, paths.status) or {"backupId": backup_id}
    # Files of a failed backup are never used; only the status stays, so the failure remains visible.
    deleted = delete_prefix(s3, dst.bucket, paths.dir)
    status.update({"status": "failed", "failedAt": iso(utcnow()), "error": failure,
                   "deletedObjects": deleted})
    write_json(s3, dst.bucket, paths.status, status)
    return {"backupId": backup_id, "status": "failed", "abortedUploads": aborted, "error": failure}
