"""WriteManifest: turn the units' results into the manifest. Writing it is what makes a backup good."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from s3db_backup.archive.frames import CODECS
from s3db_backup.archive.lines import LINE_FORMAT
from s3db_backup.archive.manifest import FileInfo, Manifest
from s3db_backup.catalog import WORK, BackupPaths, delete_prefix, iso, read_json, utcnow
from s3db_backup.config import Settings
from s3db_backup.errors import StoreError
from s3db_backup.export.chunk import unit_result_key
from s3db_backup.export.plan import PLAN, SOURCE_SCHEMA
from s3db_backup.export.split import ShardPlan, shard_plan_key
from s3db_backup.export.units import Unit
from s3db_backup.format.schema import DatabaseSchema
from s3db_backup.locations import S3Location

TOTALS = ("records", "objects", "unrecognized", "vanished", "lines", "rawBytes", "retries")


def write_manifest(s3: Any, *, backup_id: str, store: str, now: datetime | None = None) -> dict[str, Any]:
    dst = S3Location.parse(store, operation="manifest")
    paths = BackupPaths(dst, backup_id)
    plan = read_json(s3, dst.bucket, paths.work(PLAN))
    if plan is None:
        raise StoreError(f"backup {backup_id} has no plan", operation="manifest", backupId=backup_id)
    settings = Settings.from_dict(plan["settings"])
    codec = CODECS[settings.compression]
    encrypted = bool(plan.get("encryption"))
    files: list[FileInfo] = []
    for unit_data in plan["units"]:
        unit = Unit.from_dict(unit_data)
        shards = read_json(s3, dst.bucket, shard_plan_key(paths, unit, settings))
        count = ShardPlan.from_dict(shards).count if shards else 1
        for index in range(count):
            file_key = unit.file_key(codec, encrypted, shard=index if count > 1 else None)
            result = read_json(s3, dst.bucket, unit_result_key(paths, file_key))
            if result is None:
                raise StoreError(
                    f"unit {file_key} of backup {backup_id} did not finish",
                    description="Every unit (every shard of a split unit) must report before the manifest "
                                "is written.",
                    operation="manifest",
                    backupId=backup_id,
                )
            if result["file"] is not None:
                files.append(FileInfo.from_dict(result["file"]))
    raw_schema = s3.get_object(Bucket=dst.bucket, Key=paths.work(SOURCE_SCHEMA))["Body"].read().decode()
    schema = DatabaseSchema.parse(raw_schema, where="backup")
    totals = {name: sum(getattr(f, name) for f in files) for name in TOTALS}
    totals["bytes"] = sum(f.bytes for f in files)
    totals["files"] = len(files)
    now = now or utcnow()
    source = S3Location.parse(plan["source"])
    manifest = Manifest(
        backupId=backup_id,
        backupType=plan["backupType"],
        createdAt=plan["createdAt"],
        exportedAt=iso(now),
        source=plan["source"],
        database={"bucket": source.bucket, "prefix": source.prefix},
        resources={r: _resource_entry(r, schema, files) for r in plan["resources"]},
        files=files,
        sourceSchema=raw_schema,
        totals=totals,
        encryption=plan.get("encryption"),
        lineFormat=LINE_FORMAT,
    )
    s3.put_object(Bucket=dst.bucket, Key=paths.manifest, Body=manifest.to_json().encode("utf-8"),
                  ContentType="application/json")
    s3.delete_object(Bucket=dst.bucket, Key=paths.status)
    delete_prefix(s3, dst.bucket, paths.work("").rstrip("/") + "/")
    return {"backupId": backup_id, "status": "completed", "records": totals["records"],
            "bytes": totals["bytes"], "files": len(files)}


def _resource_entry(name: str, schema: DatabaseSchema, files: list[FileInfo]) -> dict[str, Any]:
    """The seed's per-resource entry, from the schema's current version and the resource's files."""
    definition = schema.current_definition(name)
    own = [f for f in files if f.resource == name]
    records_files = [f for f in own if f.kind == "records"]
    records_file = records_files[0] if records_files else None
    return {
        "name": name,
        "attributes": definition.get("attributes", {}),
        "partitions": definition.get("partitions", {}),
        "timestamps": definition.get("timestamps", False),
        "behavior": definition.get("behavior"),
        "recordCount": sum(f.records for f in records_files),
        # The seed's single file; a resource split into shards lists them all, in key order, in exportFiles.
        "exportFile": records_file.key if records_file else None,
        "exportFiles": [f.key for f in records_files],
        "compression": records_file.compression if records_file else None,
        "format": "jsonl",
        "bytesWritten": sum(f.bytes for f in own),
        "files": [f.key for f in own],
    }


__all__ = ["WORK", "write_manifest"]
