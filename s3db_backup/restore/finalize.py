"""FinalizeRestore: write the target's s3db.json (merged with what the target holds) and the report;
FailRestore: record why a restore failed."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from s3db_backup.catalog import BackupPaths, is_missing, iso, read_json, read_manifest, utcnow, write_json
from s3db_backup.errors import StoreError
from s3db_backup.export.failure import describe_failure
from s3db_backup.format import layout
from s3db_backup.format.schema import DatabaseSchema, merge
from s3db_backup.locations import S3Location
from s3db_backup.restore.plan import restore_dir

COUNTS = ("records", "objects", "skipped", "bytes")


def finalize_restore(s3: Any, *, restore_id: str, store: str) -> dict[str, Any]:
    dst = S3Location.parse(store, operation="restore")
    folder = restore_dir(dst, restore_id)
    plan = read_json(s3, dst.bucket, folder + "plan.json")
    if plan is None:
        raise StoreError(f"restore {restore_id} has no plan", operation="restore")
    manifest = read_manifest(s3, BackupPaths(dst, plan["backupId"]))
    target = S3Location.parse(plan["target"])
    totals = dict.fromkeys(COUNTS, 0)
    for file_key in plan["files"]:
        result = read_json(s3, dst.bucket, folder + f"units/{file_key}.json")
        if result is None:
            raise StoreError(f"file {file_key} of restore {restore_id} did not finish", operation="restore")
        for name in COUNTS:
            totals[name] += int(result.get(name, 0))
    schema_written = _write_schema(s3, target, DatabaseSchema.parse(manifest.sourceSchema, where="backup"),
                                   plan["resources"], overwrite=plan["overwrite"])
    report = {"restoreId": restore_id, "backupId": plan["backupId"], "target": str(target),
              "status": "completed", "finishedAt": iso(utcnow()), "resources": plan["resources"],
              "schemaWritten": schema_written, **totals}
    write_json(s3, dst.bucket, folder + "report.json", report)
    return report


def _write_schema(s3: Any, target: S3Location, source: DatabaseSchema, resources: list[str],
                  *, overwrite: bool) -> bool:
    key = target.key(layout.SCHEMA_KEY)
    try:
        raw = s3.get_object(Bucket=target.bucket, Key=key)["Body"].read().decode("utf-8")
        existing: DatabaseSchema | None = DatabaseSchema.parse(raw, where=f"s3://{target.bucket}/{key}")
    except ClientError as exc:
        if not is_missing(exc):
            raise
        existing = None
    text = merge(existing, source, resources, overwrite=overwrite)
    if existing is not None and text == existing.raw:
        return False
    s3.put_object(Bucket=target.bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")
    return True


def fail_restore(s3: Any, *, restore_id: str, store: str, error: dict[str, Any] | None) -> dict[str, Any]:
    dst = S3Location.parse(store, operation="restore")
    failure = describe_failure(error)
    write_json(s3, dst.bucket, restore_dir(dst, restore_id) + "report.json",
               {"restoreId": restore_id, "status": "failed", "failedAt": iso(utcnow()), "error": failure})
    return {"restoreId": restore_id, "status": "failed", "error": failure}
